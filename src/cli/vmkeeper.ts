#!/usr/bin/env node
import { processIO } from "./cli-io.js";
import { runCli } from "./run-cli.js";

// Exit explicitly: a deposed leader must not linger on some forgotten handle.
process.exit(await runCli("vmkeeper", process.argv.slice(2), processIO()));
