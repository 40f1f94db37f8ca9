#!/usr/bin/env node
/** Empties `.test-results/`, so that the summary counts only this run's passes. */
import { rmSync } from 'node:fs';

rmSync('.test-results', { recursive: true, force: true });
