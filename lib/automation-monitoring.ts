/** AutomationMonitoring and its parts: see automation-monitoring/index.ts. */
export * from './automation-monitoring/index.ts';
