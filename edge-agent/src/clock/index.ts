export * from './timer-service';
export { TimerHeap, systemTimers } from './timer-heap';
export { FakeTimers } from './fake-timers';
