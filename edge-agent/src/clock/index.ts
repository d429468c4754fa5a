export * from './timer-service';
export { backgroundTimers, TimerHeap, systemTimers } from './timer-heap';
export { FakeTimers } from './fake-timers';
