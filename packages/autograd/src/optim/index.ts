export * from './transforms.js';
export * from './optimizer.js';
export * from './schedules.js';
