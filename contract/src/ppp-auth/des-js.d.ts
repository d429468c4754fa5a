// Minimal typing for the parts of des.js (indutny/des.js) this folder uses: single-DES ECB.
declare module 'des.js' {
  interface DesCipher {
    update(data: ArrayLike<number>): number[];
    final(): number[];
  }
  interface DesOptions {
    type: 'encrypt' | 'decrypt';
    key: ArrayLike<number>;
    padding?: boolean;
  }
  const des: {
    DES: { create(options: DesOptions): DesCipher };
  };
  export default des;
}
