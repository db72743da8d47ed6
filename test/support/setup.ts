// Runs in every test file: the temp folders a file made go once its tests are done.
import { afterAll } from 'vitest';
import { removeTempDirs } from './server.js';

afterAll(() => removeTempDirs());
