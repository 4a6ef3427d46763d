export declare const DIGEST_FILE: string;
export declare function buildInputs(srcDir: string, prefix?: string): string[];
export declare function sourceDigest(srcDir: string): string;
export declare function chooseTree(root: string, env?: NodeJS.ProcessEnv): { tree: 'dist' | 'src'; why?: string };
