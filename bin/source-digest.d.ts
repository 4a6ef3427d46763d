export declare const STAMP_FILE: string;
export declare function buildInputs(srcDir: string, prefix?: string): string[];
export declare function buildDigest(root: string, vendored: readonly string[]): string;
export declare function chooseTree(root: string, env?: NodeJS.ProcessEnv): { tree: 'dist' | 'src'; why?: string };
