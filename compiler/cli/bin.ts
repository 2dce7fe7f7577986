#!/usr/bin/env node
/** The `pipec` executable: runs the CLI and exits with its code. */
import { hideBin } from 'yargs/helpers';
import { main } from './main.ts';

process.exitCode = await main(hideBin(process.argv));
