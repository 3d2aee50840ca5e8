#!/usr/bin/env -S npx tsx
/**
 * The operator CLI: `npx failover <command>` or `npm run failover -- <command>`.
 * All logic lives in cli/ (tested without AWS); this file only binds it to the process.
 */
import { processCliDeps, runCli } from '../cli/main.ts';

process.exitCode = await runCli(process.argv.slice(2), processCliDeps());
