/**
 * Makes the CLI one file: `npm run build` compiles it with tsc, then this bundles what tsc wrote
 * (dist/cli/main.js and all it imports) into dist/cli/bundle.js, and puts start.js, which runs the
 * bundle from V8's code cache, at dist/cli/main.js, the path users and the package's bin run. A CLI
 * that Node must find, read and compile as some 300 modules spends most of a command's time before the
 * command starts; one file, where each module runs only when first required, spends a fraction of it.
 * It also writes the .proto directories' JSON trees (base/protos.ts).
 *
 * Start-up pays only for what the command uses: the packages below are left out of the bundle and
 * loaded from node_modules when first needed, and the places in dockerode that load them at its own
 * start (ssh for ssh:// hosts, gRPC for BuildKit sessions, tar for build contexts: none of which the
 * engine uses) load them on first call instead. The library (dist/core/index.js) is left as tsc made it.
 */
import { build, type Plugin } from 'esbuild';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import 'reflect-metadata';
import { writeProtoJson } from '../base/protos';
import { PROTO_DIR as CONTAINERD_PROTOS } from '../adapters/containerd/client';
import { PROTO_DIR as CRI_PROTOS } from '../adapters/cri/client';
import { PROTO_DIR as PLUGIN_PROTOS } from '../core/plugin/protos';

/** Packages loaded from node_modules when first required, never parsed at start. */
const OUTSIDE = ['protobufjs', 'ssh2', 'tar-fs', '@balena/dockerignore'];

/**
 * grpc-js, which starts plugin programs (their health check, controller and stdio; every call after
 * that, and containerd's and CRI's, go through base/grpc.ts), is a chunk of its own, grpc.js beside the
 * bundle, that start.ts runs from its own code cache when a command first needs it: found and compiled
 * as some 150 modules it cost 90 ms of every command that loaded it.
 */
const GRPC_PARTS: Record<string, string> = { '@grpc/grpc-js': 'grpc', '@grpc/proto-loader': 'loader' };

const grpcChunk: Plugin = {
  name: 'grpc-chunk',
  setup(b) {
    b.onResolve({ filter: /^@grpc\/(grpc-js|proto-loader)$/ }, (args) =>
      ({ path: args.path, namespace: 'grpc-chunk' }));
    b.onLoad({ filter: /.*/, namespace: 'grpc-chunk' }, (args) => ({
      contents: `module.exports = require('./grpc.js').${GRPC_PARTS[args.path]};\n`, loader: 'js',
    }));
    b.onResolve({ filter: /^\.\/grpc\.js$/ }, () => ({ path: './grpc.js', external: true }));
  },
};

/**
 * dockerode's modules that require an OUTSIDE package at their top, each replaced by a function
 * that requires the real module on its first call (they export one function each).
 */
const ON_CALL = [/docker-modem[\\/]lib[\\/]ssh\.js$/, /dockerode[\\/]lib[\\/]session\.js$/];

/** The module id Node finds from anywhere in the package: the path after its last node_modules/. */
const moduleId = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);

const onCall: Plugin = {
  name: 'load-on-call',
  setup(b) {
    const ids = new Set<string>();
    b.onLoad({ filter: new RegExp(ON_CALL.map((r) => r.source).join('|')) }, (args) => {
      const id = moduleId(args.path);
      ids.add(id);
      return {
        contents: `let real;\nmodule.exports = function (...a) {\n  real ??= require(${JSON.stringify(id)});\n` +
          '  return real.apply(this, a);\n};\n',
        loader: 'js',
      };
    });
    // The real module, required by the stand-in, stays outside the bundle.
    b.onResolve({ filter: /^(docker-modem|dockerode)\// }, (args) =>
      (ids.has(args.path) ? { path: args.path, external: true } : undefined));
  },
};

/**
 * Modules that packages require at their top but use only for what the engine rarely or never does:
 * each becomes a stand-in that requires the module when a property of it is first read. dockerode's
 * util.js packs build contexts (tar-fs, dockerignore, zlib: 4 ms of every docker command); docker-modem's
 * http.js serves https:// hosts; commander spawns executable subcommands, which the CLI has none of
 * (child_process: 2-3 ms of every command that spawns nothing, such as resolve and ps).
 */
const ON_USE: [RegExp, RegExp][] = [
  [/dockerode[\\/]lib[\\/]util\.js$/, /^(tar-fs|@balena\/dockerignore|zlib)$/],
  [/docker-modem[\\/]lib[\\/]http\.js$/, /^https$/],
  [/commander[\\/]lib[\\/]command\.js$/, /^node:child_process$/],
];

const onUse: Plugin = {
  name: 'load-on-use',
  setup(b) {
    b.onResolve({ filter: new RegExp(ON_USE.map(([, id]) => id.source).join('|')) }, (args) =>
      (ON_USE.some(([importer, id]) => importer.test(args.importer) && id.test(args.path))
        ? { path: args.path, namespace: 'on-use' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'on-use' }, (args) => ({
      contents: `let real;\nconst load = () => (real ??= require(${JSON.stringify(args.path)}));\n` +
        'module.exports = new Proxy({}, { get: (_, k) => load()[k], has: (_, k) => k in load() });\n',
      loader: 'js',
    }));
  },
};

/**
 * docker-modem formats every request for its debug log (util.inspect of the options) even when that
 * log is off, and util.inspect's first call costs milliseconds: formatted only when the log is on.
 */
const quietModem: Plugin = {
  name: 'quiet-modem',
  setup(b) {
    b.onLoad({ filter: /docker-modem[\\/]lib[\\/]modem\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const eager = "debug('Sending: %s', util.inspect(";
      if (!text.includes(eager)) return { contents: text, loader: 'js', warnings: [{ text: 'docker-modem changed: ' +
        'its debug line is no longer where quiet-modem looks; the bundle formats every request again' }] };
      return { contents: text.replace(eager, `debug.enabled && ${eager}`), loader: 'js' };
    });
  },
};

/** The plugin module loader's import(), which code run by vm.Script lacks, calls start.ts's instead. */
const outsideImport: Plugin = {
  name: 'outside-import',
  setup(b) {
    b.onLoad({ filter: /[\\/]core[\\/]modules[\\/]loader\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const calls = text.match(/\bawait import\(/g)?.length ?? 0;
      if (calls !== 1) throw new Error(`${args.path} has ${calls} "await import(" calls, where one was expected`);
      return { contents: text.replace(/\bawait import\(/, 'await __importModule('), loader: 'js' };
    });
  },
};

/** The .proto directories the adapters and the plugin host load, parsed once here (base/protos.ts). */
const PROTO_DIRS = [CONTAINERD_PROTOS, CRI_PROTOS, PLUGIN_PROTOS];

async function main(): Promise<void> {
  for (const dir of PROTO_DIRS) writeProtoJson(dir);
  const main = join(__dirname, 'main.js');
  await build({
    stdin: {
      contents: Object.entries(GRPC_PARTS).map(([pkg, part]) => `exports.${part} = require('${pkg}');`).join('\n'),
      resolveDir: __dirname,
    },
    outfile: join(__dirname, 'grpc.js'), bundle: true, platform: 'node', target: 'node20', format: 'cjs',
    logLevel: 'warning', legalComments: 'none', charset: 'ascii', // start.ts reads it as latin1
  });
  await build({
    entryPoints: [main], outfile: join(__dirname, 'bundle.js'), bundle: true, platform: 'node', target: 'node20',
    format: 'cjs',
    external: [...OUTSIDE, '*.node'], plugins: [onCall, onUse, quietModem, grpcChunk, outsideImport],
    logLevel: 'warning',
    legalComments: 'none', charset: 'ascii', // start.ts reads it as latin1
    // The entry's own "#!/usr/bin/env node" line is kept by esbuild as the first line of the bundle.
  });
  copyFileSync(join(__dirname, 'start.js'), main);
  // Made for the files before these ones (their key would refuse them, but they need not wait for that).
  for (const f of ['bundle.js.cache', 'grpc.js.cache']) rmSync(join(__dirname, f), { force: true });
}

main().catch((err) => {
  process.stderr.write(`bundling the CLI: ${(err as Error).message}\n`);
  process.exit(1);
});
