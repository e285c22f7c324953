#!/usr/bin/env node
// kubectl finds plugins by their file name on PATH: `kubectl vmkeeper validate -f x.yaml`.
import { processIO } from "./cli-io.js";
import { runCli } from "./run-cli.js";

process.exit(await runCli("kubectl vmkeeper", process.argv.slice(2), processIO()));
