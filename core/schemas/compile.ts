/**
 * Build step (`npm run build`): compiles the shipped JSON schemas into standalone validator code,
 * dist/core/schemas/validators.js, with ajv's own code generator. At run time the engine loads that
 * code instead of compiling the schemas, which cost every command tens of milliseconds.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import payload from '../payload/payload.schema.json';
import plugins from '../config/plugins.schema.json';
import type { SchemaValidators } from './index';

const ajv = new Ajv({ allErrors: true, strict: true, code: { source: true } });
ajv.addSchema(plugins);
ajv.addSchema(payload);
const refs: Record<keyof SchemaValidators, string> = {
  pluginsFile: `${plugins.$id}#`,
  pluginsBuiltin: `${plugins.$id}#/definitions/builtin`,
  pluginsModule: `${plugins.$id}#/definitions/module`,
  pluginsCommand: `${plugins.$id}#/definitions/command`,
  payload: `${payload.$id}#`,
};
writeFileSync(join(__dirname, 'validators.js'), standaloneCode(ajv, refs));
