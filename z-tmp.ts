import { readFileSync } from 'node:fs';
import { parseConfig } from './lambdas/domain/config.ts';

const c = JSON.parse(readFileSync('config/examples/aws-signals.json', 'utf8'));
c.services[0].nodes[1] = null;
try {
  parseConfig(c);
} catch (e) {
  console.log((e as Error).stack?.slice(0, 1500));
}
