// `mlv repro`: brings the pipeline's stages up to date (skip, restore from the run cache, or
// run in the controlled environment), and what each step did.
import MLVSystem
import Foundation
import Glibc
import MLVGit
import MLVStore

/// What `mlv repro` did with a stage; the JSON `action`.
public enum ReproAction: String, Codable, Sendable {
    /// The command ran.
    case ran
    /// Its inputs and outputs match its record: nothing to do.
    case skipped
    /// The same inputs ran before: outputs and record restored from the run cache.
    case restored
}

public struct ReproStep: Encodable, Sendable {
    public var stage: String
    public var action: ReproAction
    public var reason: String
    public var record: RunRecord?
}

public enum RunError: Error, CustomStringConvertible, Equatable {
    case failed(stage: String, status: Int32, log: String)
    case interrupted(stage: String)

    public var description: String {
        switch self {
        case .failed(let s, let status, let log):
            return "stage \(s) failed with exit status \(status); nothing was recorded and its previous outputs are back in place (log: \(log))"
        case .interrupted(let s):
            return "stage \(s) was interrupted; nothing was recorded and its previous outputs are back in place"
        }
    }
}

extension Workspace {
    /// The run cache: `.mlv/cache/runs`, or for an isolated run the main workspace's.
    var runCacheDir: String { isolation?.sharedRunCache ?? FS.join(mlvDir, "cache/runs") }
}

/// Runs the pipeline's stages over a workspace: `mlv repro` here, `mlv run` and
/// `mlv repro --verify` in isolated work directories (Isolated.swift).
public struct Runner {
    public let workspace: Workspace

    public init(_ workspace: Workspace) { self.workspace = workspace }

    var ws: Workspace { workspace }

    /// `mlv repro [STAGE...]`: brings the pipeline up to date on the working tree's data and
    /// code, dependencies first. A stage whose inputs match its record is skipped; one whose
    /// exact inputs ran before is restored from the run cache; the rest run.
    public func repro(_ wanted: [String], output: @escaping (String) -> Void) throws -> [ReproStep] {
        let lock = try ws.lock("repro") { _ in }
        defer { withExtendedLifetime(lock) {} }
        let pipeline = try Pipeline(ws.config.stages, root: ws.root)
        let order = try pipeline.order(Set(wanted.isEmpty ? Array(ws.config.stages.keys) : wanted))
        // Everything that can be checked before anything runs is checked now.
        var produced = Set<String>()
        for name in order {
            let s = ws.config.stages[name]!
            for d in s.deps where !FS.exists(ws.absolute(d)) && !produced.contains(where: { RepoPath.isWithin(d, $0) }) {
                throw PipelineError.missingDep(stage: name, path: d)
            }
            guard resolveCommand(s.cmd[0]) != nil else { throw PipelineError.commandNotFound(stage: name, command: s.cmd[0]) }
            // Params files no earlier stage writes: there, and every declared key in them.
            _ = try paramValues(s.params.filter { p in
                paramSpec(p).map { spec in !produced.contains { RepoPath.isWithin(spec.file, $0) } } ?? false
            }, stage: name)
            produced.formUnion(s.outs + s.metrics)
        }
        var steps: [ReproStep] = []
        for name in order {
            steps.append(try reproStage(name, ws.config.stages[name]!, output: output))
        }
        return steps
    }

    /// Snapshot ids of paths (files or folders) as they are now, without storing anything.
    func currentIDs(_ paths: [String]) throws -> [String: String] {
        let snap = Snapshotter(ws: ws, cache: ws.loadStatCache(), writer: nil)
        var out: [String: String] = [:]
        for p in paths {
            if let w = try snap.snapshot(p, kind: .dataset, previous: nil) { out[p] = w.id.hex }
        }
        var c = snap.cache
        try? ws.saveStatCache(&c)
        return out
    }

    /// The values a stage's `params: [FILE:KEY]` declare, as run records hold them and the
    /// fingerprint hashes them: FILE:KEY -> the value as the file wrote it. A KEY that is a
    /// section (a mapping or list) means every key below it, as in DVC: `params.yaml:train`
    /// gives `params.yaml:train.lr`, `params.yaml:train.seed`, ... (so changing any of them
    /// re-runs the stage). A null or empty section is a value too (`null`, `{}`, `[]`). A KEY
    /// the file lacks is an error naming the nearest key it has: a typo must not make a
    /// stage that never re-runs when its params change.
    func paramValues(_ specs: [String], stage: String) throws -> [String: String] {
        var out: [String: String] = [:]
        var files: [String: FlatFile] = [:]
        for spec in specs {
            guard let (file, key) = paramSpec(spec) else { continue }
            if files[file] == nil {
                guard let bytes = try ws.tree.read(file) else { throw PipelineError.missingDep(stage: stage, path: file) }
                files[file] = try flattenFile(bytes, path: file)
            }
            let f = files[file]!
            if let v = f.values[key] {
                out[spec] = v.description
            } else if let e = f.empties[key] {
                out[spec] = e
            } else if f.sections.contains(key) {
                let below = key + "."
                for (k, v) in f.values.entries where k.hasPrefix(below) { out[file + ":" + k] = v.description }
                for (k, e) in f.empties where k.hasPrefix(below) { out[file + ":" + k] = e }
            } else {
                throw PipelineError.missingParam(stage: stage, file: file, key: key, nearest: Suggest.nearest(key, among: f.keyPaths))
            }
        }
        return out
    }

    private func reproStage(_ name: String, _ stage: Stage, output: @escaping (String) -> Void) throws -> ReproStep {
        let definition = ObjectID.hash(Array(stage.canonical.utf8)).hex
        let inputs = try currentIDs(stage.deps)
        let params = try paramValues(stage.params, stage: name)
        let fp = fingerprint(definition, inputs, params)
        if let r = ws.runRecord(name), r.fingerprint == fp {
            let now = try currentIDs(stage.outs + stage.metrics)
            if (stage.outs + stage.metrics).allSatisfy({ now[$0] != nil && now[$0] == r.outputs[$0] }) {
                return ReproStep(stage: name, action: .skipped, reason: "inputs and outputs unchanged since its record", record: r)
            }
        }
        try saveEditedOutputs(name, stage, output: output)
        // These exact inputs ran before and the outputs are at hand: they come back with the
        // record of that run, byte for byte, so that going back to committed inputs gives the
        // committed tree. Records are tried in this order: the working tree's own, HEAD's,
        // then the run cache's (the cache keeps the latest run of a fingerprint, which can be
        // a later run than the committed one: `repro --verify`, `mlv run`, another branch).
        if let (r, bytes, source, now) = try restorableRecord(name, fingerprint: fp) {
            for (path, id) in r.outputs.sorted(by: { $0.key < $1.key }) where now[path] != id {
                try restoreOutput(path, ObjectID(hex: id)!)
            }
            if let bytes { try ws.writeRunRecord(stage: name, bytes: bytes) } else { try ws.writeRunRecord(r) }
            try trackOutputs(stage, r.outputs)
            output("[\(name)] restored \(counted(r.outputs.count, "output")) from \(source) (these inputs ran before)")
            return ReproStep(stage: name, action: .restored, reason: source, record: r)
        }
        let reason = ws.runRecord(name) == nil ? "no record yet" : "inputs, params or definition changed"
        let r = try runStage(name, stage, definition: definition, inputs: inputs, params: params, fingerprint: fp, output: output)
        return ReproStep(stage: name, action: .ran, reason: reason, record: r)
    }

    /// A record of stage `name` for fingerprint `fp` whose outputs are all in the store or
    /// already in place, with the bytes to write for it (nil: encode it: a cache entry recorded
    /// under another stage's name, or written by an mlv that kept entries in another
    /// format), where it was found, and the outputs' snapshot ids as they are now.
    private func restorableRecord(_ name: String, fingerprint fp: String) throws -> (RunRecord, [UInt8]?, String, [String: String])? {
        let file = "\(Workspace.runsDir)/\(name).json"
        var candidates: [(bytes: [UInt8], source: String, cache: Bool)] = []
        if let b = try? ws.tree.read(file) { candidates.append((b, "its run record", false)) }
        if let head = try ws.git.head(), let b = try? ws.git.blob(at: file, in: head) { candidates.append((b, "the run record committed at HEAD", false)) }
        if let b = try? FS.readAll(FS.join(ws.runCacheDir, fp + ".json")) { candidates.append((b, "the run cache", true)) }
        let store = try ws.store()
        var now: [String: String] = [:], hashed = Set<String>()
        for (bytes, source, cache) in candidates {
            guard var r = RunRecord(json: bytes), r.fingerprint == fp else { continue }
            let unseen = r.outputs.keys.filter { !hashed.contains($0) }
            now.merge(try currentIDs(unseen)) { $1 }
            hashed.formUnion(unseen)
            let available = try r.outputs.allSatisfy { path, id in
                guard let oid = ObjectID(hex: id) else { return false }
                if now[path] == id { return true }
                return try store.contains(oid)
            }
            guard available else { continue }
            if r.stage != name { r.stage = name; return (r, nil, source, now) }
            // Record files are pretty-printed ("{\n"); older cache entries were one line.
            if cache && !bytes.starts(with: [0x7B, 0x0A]) { return (r, nil, source, now) }
            return (r, bytes, source, now)
        }
        return nil
    }

    func fingerprint(_ definition: String, _ inputs: [String: String], _ params: [String: String]) -> String {
        var text = "definition=\(definition)\n"
        for (k, v) in inputs.sorted(by: { $0.key < $1.key }) { text += "in \(k)=\(v)\n" }
        for (k, v) in params.sorted(by: { $0.key < $1.key }) { text += "param \(k)=\(v)\n" }
        return ObjectID.hash(Array(text.utf8)).hex
    }

    /// The controlled environment: nothing inherited but PATH, HOME and the allowlist; time
    /// zone, locale, hash seed, thread counts and the commit's date pinned.
    func controlledEnvironment(_ name: String, _ stage: Stage) throws -> [String: String] {
        let env = ProcessInfo.processInfo.environment
        var out: [String: String] = [:]
        for k in ["PATH", "HOME"] + stage.env { if let v = env[k] { out[k] = v } }
        out["TZ"] = "UTC"
        out["LC_ALL"] = "C.UTF-8"
        out["LANG"] = "C.UTF-8"
        out["PYTHONHASHSEED"] = "0"
        out["PYTHONDONTWRITEBYTECODE"] = "1"
        for k in ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"] { out[k] = "1" }
        out["MLV_SEED"] = String(stage.seed ?? 0)
        out["MLV_STAGE"] = name
        let epoch = try (ws.isolation?.pinnedCommit ?? ws.git.head()).map { try ws.git.commitInfo($0).author.time } ?? 0
        out["SOURCE_DATE_EPOCH"] = String(epoch)
        return out
    }

    /// A stage's command as it will run: a path (relative to the root) that exists, or the
    /// program found on PATH (the controlled environment keeps mlv's own PATH); nil when neither.
    func resolveCommand(_ cmd: String) -> String? {
        if cmd.contains("/") { return FS.exists(cmd.hasPrefix("/") ? cmd : ws.absolute(cmd)) ? cmd : nil }
        return lookUpExecutable(cmd, searchPath: ProcessInfo.processInfo.environment["PATH"])
    }

    func runStage(_ name: String, _ stage: Stage, definition: String, inputs: [String: String], params: [String: String],
                          fingerprint fp: String, output: @escaping (String) -> Void) throws -> RunRecord {
        let store = try ws.store()
        // Previous outputs go into the store first, so a failed run can put them back.
        let backupWriter = try store.writer(compressionLevel: Int32(ws.config.compressionLevel))
        let saver = Snapshotter(ws: ws, cache: ws.loadStatCache(), writer: backupWriter)
        var previous: [String: ObjectID] = [:]
        for o in stage.outs + stage.metrics { if let w = try saver.snapshot(o, kind: .dataset, previous: nil) { previous[o] = w.id } }
        try backupWriter.commit()

        // A stage starts from no outputs: one that skips work when its output exists, or
        // leaves stale files in an output folder, must not pass for a fresh run.
        for o in stage.outs + stage.metrics where FS.lstat(ws.absolute(o)) != nil { try ws.tree.remove(ws.absolute(o)) }
        let env = try controlledEnvironment(name, stage)
        let logPath = FS.join(ws.mlvDir, "logs/\(name).log")
        try FS.makeDirectories(FS.dirname(logPath))
        let started = Date()
        let status = try runProcess(stage.cmd, env: env, cwd: ws.root, log: logPath, prefix: "[\(name)] ", output: output)
        let duration = Date().timeIntervalSince(started)
        guard status == 0 else {
            for o in stage.outs + stage.metrics {
                if let id = previous[o] { try restoreOutput(o, id) } else if FS.exists(ws.absolute(o)) { try ws.tree.remove(ws.absolute(o)) }
            }
            if status == -SIGINT || status == 128 + SIGINT { throw RunError.interrupted(stage: name) }
            throw RunError.failed(stage: name, status: status, log: logPath)
        }
        // Outputs into the store, then the record, then the cache entry.
        let writer = try store.writer(compressionLevel: Int32(ws.config.compressionLevel))
        let snap = Snapshotter(ws: ws, cache: ws.loadStatCache(), writer: writer)
        // Metrics files are stored too (they stay in git as well), so the run cache can
        // bring them back with the outputs.
        var outputs: [String: String] = [:]
        var shapes: [String: WorkingSnapshot] = [:]
        for o in stage.outs + stage.metrics {
            guard let w = try snap.snapshot(o, kind: .dataset, previous: nil) else {
                throw PipelineError.badStage(name, why: "the command succeeded but did not write its output \(o)")
            }
            outputs[o] = w.id.hex
            shapes[o] = w
            if stage.outs.contains(o) { snap.cache.synced[o] = w.id }
        }
        try writer.commit()
        var c = snap.cache
        try ws.saveStatCache(&c)
        var metrics: [String: OrderedMetrics] = [:]
        for m in stage.metrics {
            guard let bytes = try ws.tree.read(m) else { continue }
            metrics[m] = try flattenMetricsInOrder(bytes, path: m)
        }
        let record = RunRecord(stage: name, definition: definition, fingerprint: fp, command: stage.cmd, inputs: inputs,
                               params: params, environment: env.filter { $0.key != "HOME" && $0.key != "PATH" },
                               tools: toolVersions(stage.cmd[0], env: env), outputs: outputs, metrics: .byFile(metrics),
                               durationSeconds: (duration * 1000).rounded() / 1000, exitCode: status)
        let bytes = try Workspace.encodeRunRecord(record)
        try ws.writeRunRecord(stage: name, bytes: bytes)
        // The cache entry is the record file's bytes. An entry of the same fingerprint and
        // outputs stays as it is: this run reproduced it, and it may be the committed record.
        let entry = FS.join(ws.runCacheDir, fp + ".json")
        let cached = (try? FS.readAll(entry)).flatMap(RunRecord.init(json:))
        if cached?.outputs != record.outputs || cached?.stage != name {
            try FS.makeDirectories(ws.runCacheDir)
            try FS.atomicWrite(bytes, to: entry)
        }
        try trackOutputs(stage, outputs, shapes: shapes)
        return record
    }

    /// Outputs edited by hand — content no commit, run or save recorded — are saved into the
    /// store before a run or a run-cache restore replaces them, as `checkout --force` does,
    /// and the way back is printed: repro never destroys work that was not committed.
    private func saveEditedOutputs(_ name: String, _ stage: Stage, output: (String) -> Void) throws {
        let pointers = Dictionary(try ws.targets().map { ($0.path, $0.pointer) }, uniquingKeysWith: { a, _ in a })
        let store = try ws.store()
        let snap = Snapshotter(ws: ws, cache: ws.loadStatCache(), writer: nil)
        var edited: [(String, TargetKind)] = []
        var savedOnly: Set<ObjectID>? = nil
        for o in stage.outs {
            guard let p = pointers[o] else { continue }
            let st = try WorkingState(o, p, snap)
            // The rule checkout follows: a version only --force saved is work too.
            guard st.state == .modified || st.state == .diverged, let w = st.working,
                  try !ws.replaceable(w.id, saved: &savedOnly) else { continue }
            edited.append((o, p.kind))
        }
        guard !edited.isEmpty else { return }
        let writer = try store.writer(compressionLevel: Int32(ws.config.compressionLevel))
        let saver = Snapshotter(ws: ws, cache: snap.cache, writer: writer)
        var saved: [(String, ObjectID)] = []
        for (o, kind) in edited { if let w = try saver.snapshot(o, kind: kind, previous: nil) { saved.append((o, w.id)) } }
        try writer.commit()
        for (o, id) in saved {
            try ws.appendSavedLog(o, id)
            output("[\(name)] saved your uncommitted \(o) as snapshot \(id.hex.prefix(12)) before replacing it; bring it back with `mlv checkout --snapshot \(id.hex) -- \(shellQuote(o))`")
        }
    }

    /// Outputs become tracked targets (pointers written, data ignored by git, both staged);
    /// metrics files are recorded as metrics kept in git. `shapes` holds what the run's own
    /// snapshot found (sizes, file counts, rows × columns); outputs restored from the run
    /// cache are read once more, so their pointers carry the same exact figures a
    /// `mlv commit` would write.
    func trackOutputs(_ stage: Stage, _ outputs: [String: String], shapes: [String: WorkingSnapshot] = [:]) throws {
        if ws.isolation != nil { return }   // a work directory: nothing to track, nothing to stage
        var stageFiles: [String] = []
        let reader = Snapshotter(ws: ws, cache: StatCache(), writer: nil)
        for (path, id) in outputs.sorted(by: { $0.key < $1.key }) where !stage.metrics.contains(path) {
            guard let oid = ObjectID(hex: id), let st = FS.lstat(ws.absolute(path)) else { continue }
            let ptrPath = Pointer.pointerPath(for: path)
            let isDir = st.st_mode & S_IFMT == S_IFDIR
            var p = (try? ws.tree.read(ptrPath)).flatMap { $0 }.flatMap { try? Pointer(parsing: $0, path: ptrPath) }
                ?? Pointer(kind: TargetKind.infer(path: path, isDirectory: isDir), type: isDir ? .dir : .file)
            guard let w = try shapes[path].flatMap({ $0.id == oid ? $0 : nil }) ?? reader.snapshot(path, kind: p.kind, previous: nil),
                  w.id == oid else {
                throw MLVError.invalidArgument("\(path) changed while mlv recorded it as a stage output; run `mlv repro` again")
            }
            p.record(w)
            try ws.writePointer(p, for: path)
            try ws.setIgnored(path, true)
            stageFiles.append(ptrPath)
        }
        var changed = false
        for m in stage.metrics where !ws.config.metrics.contains(m) { ws.config.metrics.append(m); changed = true }
        if changed { ws.config.metrics.sort(); try ws.config.save(path: ws.configPath); stageFiles.append(Config.fileName) }
        stageFiles += stage.metrics.filter { FS.exists(ws.absolute($0)) }
        if FS.exists(ws.absolute(".gitignore")) { stageFiles.append(".gitignore") }
        if let names = try? FS.list(ws.absolute(Workspace.runsDir)) { stageFiles += names.map { "\(Workspace.runsDir)/\($0)" } }
        try ws.stageInGit(stageFiles)
    }

    /// Puts a stored snapshot back at `path` (a run's output).
    func restoreOutput(_ path: String, _ id: ObjectID) throws {
        let store = try ws.store()
        guard let loc = try store.location(of: id) else { throw StoreError.missingObject(id, type: .file) }
        let restorer = try Restorer(store: store)
        restorer.tree = ws.tree
        defer { restorer.abandon() }
        let snap = Snapshotter(ws: ws, cache: ws.loadStatCache(), writer: nil)
        let entry = try ws.checkBeforePlacing(TreeEntry(name: FS.basename(path), kind: loc.type == .tree ? .directory : .file,
                                                     size: 0, files: 0, id: id), at: path, declared: false)
        try ws.place(entry, at: path, restorer: restorer, snap: snap)
        for (rel, mid) in try restorer.finish() {
            if let st = FS.lstat(ws.absolute(rel)) { snap.cache.record(rel, FileStat(st), manifest: mid) }
        }
        var c = snap.cache
        try ws.saveStatCache(&c)
    }

    func toolVersions(_ cmd: String, env: [String: String]) -> [String: String] {
        guard let exe = resolveCommand(cmd) else { return [:] }
        // Run like a stage (own process group, ended with it, bounded in time and output):
        // `--version` of a stage's own script runs that script.
        return versionLine(exe.hasPrefix("/") ? exe : ws.absolute(exe), env: env, cwd: ws.root).map { [cmd: $0] } ?? [:]
    }
}

extension RunError: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .failed, .interrupted: return .commandFailed
        }
    }
}
