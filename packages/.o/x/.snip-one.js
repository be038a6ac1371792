"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
const node_fs_1 = __importDefault(require("node:fs"));
const node_path_1 = __importDefault(require("node:path"));
const doc_snippets_1 = require("./doc-snippets");
const file = process.argv[2];
const all = (0, doc_snippets_1.extractBlocks)(node_fs_1.default.readFileSync(node_path_1.default.join(doc_snippets_1.repoRoot, file), 'utf8'), file);
const dir = (0, doc_snippets_1.snippetDir)();
(async () => {
    for (const b of all)
        for (const p of (0, doc_snippets_1.policyProblems)(b, all))
            console.log('POLICY', p);
    for (const [i, b] of all.entries()) {
        if (!(0, doc_snippets_1.isRunnable)(b))
            continue;
        if (b.platforms && !b.platforms.includes(process.platform)) {
            console.log('skip', b.line);
            continue;
        }
        const p = (0, doc_snippets_1.prepare)(b, dir, `x${i}`);
        const te = p.tsSource ? (0, doc_snippets_1.typeCheck)([p.tsSource]).get(p.tsSource) : [];
        const probs = [...te, ...(await (0, doc_snippets_1.runTwice)(p, 20000))];
        console.log(probs.length ? 'FAIL' : 'ok  ', file, b.line, probs.join('\n'));
    }
    node_fs_1.default.rmSync(dir, { recursive: true, force: true });
})();
