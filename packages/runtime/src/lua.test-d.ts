import { expectTypeOf, test } from 'vitest';
import type { LuaScriptName } from './lua-scripts.generated.js';
import type { ScriptCommands } from './lua.js';

test('every lua/<name>-<keys>.lua script has a typed call in ScriptCommands, and every call a script', () => {
  expectTypeOf<keyof ScriptCommands>().toEqualTypeOf<LuaScriptName>();
});
