/** The e2e harness's one error family: setup failures and failed checks inside scenarios. */
export class E2eError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'E2eError';
  }
}

/** A scenario precondition that cannot hold in this run (e.g. a component not built yet). */
export class ScenarioSkipped extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioSkipped';
  }
}
