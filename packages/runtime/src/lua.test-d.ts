import { expectTypeOf, test } from 'vitest';
import type { LuaScriptName } from './lua-scripts.generated.js';
import type { ScriptCommands } from './lua.js';

test('every typed call in ScriptCommands is a script of lua/ (renaming or removing a .lua file breaks the build)', () => {
  expectTypeOf<keyof ScriptCommands>().toExtend<LuaScriptName>();
});
