#!/usr/bin/env node
/**
 * The built-in docker adapter served as an out-of-process plugin (sdk serve(), the go-plugin
 * protocol): the same adapter on both sides of the benchmark's plugin comparison, so that the
 * difference it measures is the protocol alone.
 */
import 'reflect-metadata';
import '../../adapters/docker';
import { serve } from '../../sdk/serve';
import { buildBuiltin } from '../../testing/harness';

void serve(buildBuiltin('docker').adapter);
