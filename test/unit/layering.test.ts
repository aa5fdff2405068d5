import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The layering the README's "Layout" section states, checked on every import of the sources: each
 * folder may import only the folders listed for it (itself included), so dependencies point one way
 * (base <- native <- core <- adapters <- cli) and nothing below reaches up.
 */
const MAY_IMPORT: Record<string, string[]> = {
  base: ['base'],
  native: ['base', 'native'],
  core: ['base', 'native', 'core'],
  adapters: ['base', 'native', 'core', 'adapters'],
  sdk: ['base', 'core', 'sdk'],
  testing: ['base', 'native', 'core', 'sdk', 'testing'],
  cli: ['base', 'core', 'adapters', 'testing', 'cli'],
  plugins: ['sdk', 'plugins'],
};

const ROOT = resolve(__dirname, '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'build' ? [] : sources(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative module a file imports or requires, as a path from the repository's root. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(?\s*|require\()\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]);
  return specs.map((s) => relative(ROOT, resolve(join(ROOT, dirname(file)), s)));
}

describe('layering', () => {
  it('no source file imports a folder its own may not', () => {
    const wrong: string[] = [];
    for (const [folder, allowed] of Object.entries(MAY_IMPORT)) {
      for (const file of sources(folder)) {
        for (const target of importsOf(file)) {
          const top = target.split('/')[0];
          // A require of package.json is relative to the compiled file, one level deeper: not a source import.
          if (!target.endsWith('package.json') && !allowed.includes(top)) wrong.push(`${file} imports ${target}`);
        }
      }
    }
    expect(wrong).to.deep.equal([]);
  });

  it('sees the imports it checks (the check cannot pass by reading nothing)', () => {
    expect(importsOf('cli/main.ts')).to.include('adapters');
    expect(sources('core').length).to.be.above(20);
  });
});
