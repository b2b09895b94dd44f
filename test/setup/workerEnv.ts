/**
 * Runs in every test worker before its test file: the worker's environment holds no connection variables from the
 * developer's shell (see test/helpers/env.ts), and temporary files go to the run's own directory, which globalSetup
 * checks is empty at the end.
 */
import { inject } from 'vitest';
import { clearLeakyEnv } from '../helpers/env.js';

clearLeakyEnv(process.env);
process.env.TMPDIR = inject('partwiseRunTmp');
