/**
 * The slice of the WebAssembly JS API this binding uses. tsconfig's lib is ES2022 without DOM,
 * and @types/node 20 does not declare the WebAssembly namespace.
 */
declare namespace WebAssembly {
  interface ModuleExportDescriptor {
    name: string;
    kind: string;
  }
  interface ModuleImportDescriptor {
    module: string;
    name: string;
    kind: string;
  }
  type ModuleImports = Record<string, unknown>;
  type Imports = Record<string, ModuleImports>;
  class Module {
    constructor(bytes: Uint8Array);
    static exports(module: Module): ModuleExportDescriptor[];
    static imports(module: Module): ModuleImportDescriptor[];
  }
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
}
