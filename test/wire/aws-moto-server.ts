/**
 * The adapter wire suites' entry to moto_server: the shared helper in test/support/moto.ts (free
 * port, readiness, stop by pid even on failure, a failure naming `pip install "moto[server]"`
 * when moto is missing).
 */
export { dummyCredentials, type MotoServer, startMoto } from '../support/moto.ts';
