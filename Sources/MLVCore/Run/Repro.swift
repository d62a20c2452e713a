import Foundation
import Glibc
import MLVGit
import MLVStore

/// What one successful run of a stage consumed and produced. Committed as
/// `mlv-runs/<stage>.json` (sorted keys, so records diff and merge like code; the metrics in
/// their file's order, each number as the file wrote it). Written by `JSONOutput` and read by
/// `JSONReader` (`init(json:)`): JSONEncoder and JSONDecoder cannot carry a number's text.
public struct RunRecord: Encodable, Sendable, Equatable {
    public var stage: String
    /// SHA-256 of the stage's canonical definition.
    public var definition: String
    /// SHA-256 over definition, inputs and params: the run cache key.
    public var fingerprint: String
    public var command: [String]
    public var inputs: [String: String]          // path -> snapshot id (SHA-256 of a file's bytes for untracked code)
    public var params: [String: String]          // FILE:KEY -> value
    public var environment: [String: String]
    public var tools: [String: String]           // command -> its --version line
    public var outputs: [String: String]         // path -> snapshot id
    public var metrics: OrderedMetrics
    public var durationSeconds: Double
    public var exitCode: Int32

    enum CodingKeys: String, CodingKey {
        case stage, definition, fingerprint, command, inputs, params, environment, tools, outputs, metrics
        case durationSeconds = "duration_seconds"
        case exitCode = "exit_code"
    }

    init(stage: String, definition: String, fingerprint: String, command: [String], inputs: [String: String],
         params: [String: String], environment: [String: String], tools: [String: String], outputs: [String: String],
         metrics: OrderedMetrics, durationSeconds: Double, exitCode: Int32) {
        self.stage = stage; self.definition = definition; self.fingerprint = fingerprint; self.command = command
        self.inputs = inputs; self.params = params; self.environment = environment; self.tools = tools
        self.outputs = outputs; self.metrics = metrics; self.durationSeconds = durationSeconds; self.exitCode = exitCode
    }

    /// A record as mlv wrote it; nil for anything else (a record is only ever read to skip or
    /// verify work, and a damaged one means the stage runs again).
    public init?(json bytes: [UInt8]) {
        guard let v = try? JSONReader.parse(bytes), case .object = v else { return nil }
        func strings(_ k: CodingKeys) -> [String: String]? {
            guard case .object(let o)? = v[k.rawValue] else { return nil }
            var out: [String: String] = [:]
            for (key, x) in o { guard let s = x.string else { return nil }; out[key] = s }
            return out
        }
        guard let stage = v["stage"]?.string, let definition = v["definition"]?.string,
              let fingerprint = v["fingerprint"]?.string,
              case .array(let cmd)? = v["command"], case let command = cmd.compactMap(\.string), command.count == cmd.count,
              let inputs = strings(.inputs), let params = strings(.params), let environment = strings(.environment),
              let tools = strings(.tools), let outputs = strings(.outputs),
              case .object(let m)? = v["metrics"],
              case .number(let duration)? = v["duration_seconds"], case .number(let exit)? = v["exit_code"],
              let exitCode = Int32(exit.text) else { return nil }
        var metrics = OrderedMetrics()
        for (k, x) in m { metrics[k] = MetricValue(x, mlvJSON: true) }
        self.init(stage: stage, definition: definition, fingerprint: fingerprint, command: command, inputs: inputs,
                  params: params, environment: environment, tools: tools, outputs: outputs, metrics: metrics,
                  durationSeconds: duration.value, exitCode: exitCode)
    }
}

public struct ReproStep: Encodable, Sendable {
    public var stage: String
    public var action: String        // ran, skipped, restored
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
    static let runsDir = "mlv-runs"

    public func runRecord(_ stage: String) -> RunRecord? {
        guard let bytes = try? tree.read("\(Workspace.runsDir)/\(stage).json") else { return nil }
        return RunRecord(json: bytes)
    }

    func writeRunRecord(_ r: RunRecord) throws {
        // A committed `mlv-runs -> /elsewhere` must not carry the record (or what is staged
        // from the folder) outside the tree.
        try tree.checkParents(absolute("\(Workspace.runsDir)/\(r.stage).json"))
        try FS.makeDirectories(absolute(Workspace.runsDir))
        try FS.atomicWrite(try JSONOutput.encode(r, pretty: true) + [0x0A], to: absolute("\(Workspace.runsDir)/\(r.stage).json"))
    }

    var runCacheDir: String { sharedRunCache ?? FS.join(mlvDir, "cache/runs") }

    /// `mlv repro [STAGE...]`: brings the pipeline up to date on the working tree's data and
    /// code, dependencies first. A stage whose inputs match its record is skipped; one whose
    /// exact inputs ran before is restored from the run cache; the rest run.
    public func repro(_ wanted: [String], output: @escaping (String) -> Void) throws -> [ReproStep] {
        let lock = try self.lock("repro") { _ in }
        defer { withExtendedLifetime(lock) {} }
        let pipeline = try Pipeline(config.stages, root: root)
        let order = try pipeline.order(Set(wanted.isEmpty ? Array(config.stages.keys) : wanted))
        // Everything that can be checked before anything runs is checked now.
        var produced = Set<String>()
        for name in order {
            let s = config.stages[name]!
            for d in s.deps where !FS.exists(absolute(d)) && !produced.contains(where: { RepoPath.isWithin(d, $0) }) {
                throw PipelineError.missingDep(stage: name, path: d)
            }
            guard resolveCommand(s.cmd[0]) != nil else { throw PipelineError.commandNotFound(stage: name, command: s.cmd[0]) }
            produced.formUnion(s.outs + s.metrics)
        }
        var steps: [ReproStep] = []
        for name in order {
            steps.append(try reproStage(name, config.stages[name]!, output: output))
        }
        return steps
    }

    /// Snapshot ids of paths (files or folders) as they are now, without storing anything.
    func currentIDs(_ paths: [String]) throws -> [String: String] {
        let snap = Snapshotter(ws: self, cache: loadStatCache(), writer: nil)
        var out: [String: String] = [:]
        for p in paths {
            if let w = try snap.snapshot(p, kind: .dataset, previous: nil) { out[p] = w.id.hex }
        }
        var c = snap.cache
        try? saveStatCache(&c)
        return out
    }

    func paramValues(_ specs: [String]) throws -> [String: String] {
        var out: [String: String] = [:]
        var files: [String: [String: MetricValue]] = [:]
        for spec in specs {
            guard let (file, key) = paramSpec(spec) else { continue }
            if files[file] == nil {
                guard let bytes = try tree.read(file) else { throw PipelineError.missingDep(stage: spec, path: file) }
                files[file] = try flattenMetrics(bytes, path: file)
            }
            out[spec] = files[file]![key]?.description ?? ""
        }
        return out
    }

    private func reproStage(_ name: String, _ stage: Stage, output: @escaping (String) -> Void) throws -> ReproStep {
        let definition = ObjectID.hash(Array(stage.canonical.utf8)).hex
        let inputs = try currentIDs(stage.deps)
        let params = try paramValues(stage.params)
        let fp = fingerprint(definition, inputs, params)
        if let r = runRecord(name), r.fingerprint == fp {
            let now = try currentIDs(stage.outs + stage.metrics)
            if (stage.outs + stage.metrics).allSatisfy({ now[$0] != nil && now[$0] == r.outputs[$0] }) {
                return ReproStep(stage: name, action: "skipped", reason: "inputs and outputs unchanged since its record", record: r)
            }
        }
        try saveEditedOutputs(name, stage, output: output)
        // The run cache: this exact input set ran before and its outputs are in the store.
        if let cached = try? FS.readAll(FS.join(runCacheDir, fp + ".json")),
           var r = RunRecord(json: cached),
           try r.outputs.values.allSatisfy({ id in try ObjectID(hex: id).map { try store().contains($0) } ?? false }) {
            for (path, id) in r.outputs { try restoreOutput(path, ObjectID(hex: id)!) }
            r.stage = name
            try writeRunRecord(r)
            try trackOutputs(stage, r.outputs)
            output("[\(name)] restored \(r.outputs.count) output\(r.outputs.count == 1 ? "" : "s") from the run cache (these inputs ran before)")
            return ReproStep(stage: name, action: "restored", reason: "run cache", record: r)
        }
        let reason = runRecord(name) == nil ? "no record yet" : "inputs, params or definition changed"
        let r = try runStage(name, stage, definition: definition, inputs: inputs, params: params, fingerprint: fp, output: output)
        return ReproStep(stage: name, action: "ran", reason: reason, record: r)
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
        let epoch = try (pinnedCommit ?? git.head()).map { try git.commitInfo($0).author.time } ?? 0
        out["SOURCE_DATE_EPOCH"] = String(epoch)
        return out
    }

    func resolveCommand(_ cmd: String) -> String? {
        if cmd.contains("/") { return FS.exists(cmd.hasPrefix("/") ? cmd : absolute(cmd)) ? cmd : nil }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = FS.join(String(dir), cmd)
            if access(p, X_OK) == 0 { return p }
        }
        return nil
    }

    func runStage(_ name: String, _ stage: Stage, definition: String, inputs: [String: String], params: [String: String],
                          fingerprint fp: String, output: @escaping (String) -> Void) throws -> RunRecord {
        let store = try store()
        // Previous outputs go into the store first, so a failed run can put them back.
        let backupWriter = try store.writer(compressionLevel: Int32(config.compressionLevel))
        let saver = Snapshotter(ws: self, cache: loadStatCache(), writer: backupWriter)
        var previous: [String: ObjectID] = [:]
        for o in stage.outs + stage.metrics { if let w = try saver.snapshot(o, kind: .dataset, previous: nil) { previous[o] = w.id } }
        try backupWriter.commit()

        // A stage starts from no outputs: one that skips work when its output exists, or
        // leaves stale files in an output folder, must not pass for a fresh run.
        for o in stage.outs + stage.metrics where FS.lstat(absolute(o)) != nil { try tree.remove(absolute(o)) }
        let env = try controlledEnvironment(name, stage)
        let logPath = FS.join(mlvDir, "logs/\(name).log")
        try FS.makeDirectories(FS.dirname(logPath))
        let started = Date()
        let status = try runProcess(stage.cmd, env: env, cwd: root, log: logPath, prefix: "[\(name)] ", output: output)
        let duration = Date().timeIntervalSince(started)
        guard status == 0 else {
            for o in stage.outs + stage.metrics {
                if let id = previous[o] { try restoreOutput(o, id) } else if FS.exists(absolute(o)) { try tree.remove(absolute(o)) }
            }
            if status == -SIGINT || status == 128 + SIGINT { throw RunError.interrupted(stage: name) }
            throw RunError.failed(stage: name, status: status, log: logPath)
        }
        // Outputs into the store, then the record, then the cache entry.
        let writer = try store.writer(compressionLevel: Int32(config.compressionLevel))
        let snap = Snapshotter(ws: self, cache: loadStatCache(), writer: writer)
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
        try saveStatCache(&c)
        var metrics = OrderedMetrics()
        for m in stage.metrics {
            guard let bytes = try tree.read(m) else { continue }
            for (k, v) in try flattenMetricsInOrder(bytes, path: m).entries { metrics[k] = v }
        }
        let record = RunRecord(stage: name, definition: definition, fingerprint: fp, command: stage.cmd, inputs: inputs,
                               params: params, environment: env.filter { $0.key != "HOME" && $0.key != "PATH" },
                               tools: toolVersions(stage.cmd[0], env: env), outputs: outputs, metrics: metrics,
                               durationSeconds: (duration * 1000).rounded() / 1000, exitCode: status)
        try writeRunRecord(record)
        try FS.makeDirectories(runCacheDir)
        try FS.atomicWrite(try JSONOutput.encode(record, pretty: false), to: FS.join(runCacheDir, fp + ".json"))
        try trackOutputs(stage, outputs, shapes: shapes)
        return record
    }

    /// Outputs edited by hand — content no commit, run or save recorded — are saved into the
    /// store before a run or a run-cache restore replaces them, as `checkout --force` does,
    /// and the way back is printed: repro never destroys work that was not committed.
    private func saveEditedOutputs(_ name: String, _ stage: Stage, output: (String) -> Void) throws {
        let pointers = Dictionary(try targets().map { ($0.path, $0.pointer) }, uniquingKeysWith: { a, _ in a })
        let store = try store()
        let snap = Snapshotter(ws: self, cache: loadStatCache(), writer: nil)
        var edited: [(String, TargetKind)] = []
        for o in stage.outs {
            guard let p = pointers[o] else { continue }
            let st = try workingState(o, p, snap)
            guard st.state == .modified || st.state == .diverged, let w = st.working, try !store.contains(w.id) else { continue }
            edited.append((o, p.kind))
        }
        guard !edited.isEmpty else { return }
        let writer = try store.writer(compressionLevel: Int32(config.compressionLevel))
        let saver = Snapshotter(ws: self, cache: snap.cache, writer: writer)
        var saved: [(String, ObjectID)] = []
        for (o, kind) in edited { if let w = try saver.snapshot(o, kind: kind, previous: nil) { saved.append((o, w.id)) } }
        try writer.commit()
        for (o, id) in saved {
            try appendSavedLog(o, id)
            output("[\(name)] saved your uncommitted \(o) as snapshot \(id.hex.prefix(12)) before replacing it; bring it back with `mlv checkout --snapshot \(id.hex) -- \(shellQuote(o))`")
        }
    }

    /// Outputs become tracked targets (pointers written, data ignored by git, both staged);
    /// metrics files are recorded as metrics kept in git. `shapes` holds what the run's own
    /// snapshot found (sizes, file counts, rows × columns); outputs restored from the run
    /// cache are read once more, so their pointers carry the same exact figures a
    /// `mlv commit` would write.
    func trackOutputs(_ stage: Stage, _ outputs: [String: String], shapes: [String: WorkingSnapshot] = [:]) throws {
        if isolated { return }   // a work directory: nothing to track, nothing to stage
        var stageFiles: [String] = []
        let reader = Snapshotter(ws: self, cache: StatCache(), writer: nil)
        for (path, id) in outputs.sorted(by: { $0.key < $1.key }) where !stage.metrics.contains(path) {
            guard let oid = ObjectID(hex: id), let st = FS.lstat(absolute(path)) else { continue }
            let ptrPath = Pointer.pointerPath(for: path)
            let isDir = st.st_mode & S_IFMT == S_IFDIR
            var p = (try? tree.read(ptrPath)).flatMap { $0 }.flatMap { try? Pointer(parsing: $0, path: ptrPath) }
                ?? Pointer(kind: TargetKind.infer(path: path, isDirectory: isDir), type: isDir ? .dir : .file)
            guard let w = try shapes[path].flatMap({ $0.id == oid ? $0 : nil }) ?? reader.snapshot(path, kind: p.kind, previous: nil),
                  w.id == oid else {
                throw MLVError.invalidArgument("\(path) changed while mlv recorded it as a stage output; run `mlv repro` again")
            }
            p.record(w)
            try writePointer(p, for: path)
            try setIgnored(path, true)
            stageFiles.append(ptrPath)
        }
        var changed = false
        for m in stage.metrics where !config.metrics.contains(m) { config.metrics.append(m); changed = true }
        if changed { config.metrics.sort(); try config.save(path: configPath); stageFiles.append(Config.fileName) }
        stageFiles += stage.metrics.filter { FS.exists(absolute($0)) }
        if FS.exists(absolute(".gitignore")) { stageFiles.append(".gitignore") }
        if let names = try? FS.list(absolute(Workspace.runsDir)) { stageFiles += names.map { "\(Workspace.runsDir)/\($0)" } }
        try stageInGit(stageFiles)
    }

    /// Puts a stored snapshot back at `path` (a run's output).
    func restoreOutput(_ path: String, _ id: ObjectID) throws {
        let store = try store()
        guard let loc = try store.location(of: id) else { throw StoreError.missingObject(id, type: .file) }
        let restorer = try Restorer(store: store)
        restorer.tree = tree
        defer { restorer.abandon() }
        let snap = Snapshotter(ws: self, cache: loadStatCache(), writer: nil)
        let entry = try checkBeforePlacing(TreeEntry(name: FS.basename(path), kind: loc.type == .tree ? .directory : .file,
                                                     size: 0, files: 0, id: id), at: path, declared: false)
        try place(entry, at: path, restorer: restorer, snap: snap)
        for (rel, mid) in try restorer.finish() {
            if let st = FS.lstat(absolute(rel)) { snap.cache.record(rel, FileStat(st), manifest: mid) }
        }
        var c = snap.cache
        try saveStatCache(&c)
    }

    func toolVersions(_ cmd: String, env: [String: String]) -> [String: String] {
        guard let exe = resolveCommand(cmd) else { return [:] }
        // Run like a stage (own process group, ended with it, bounded in time and output):
        // `--version` of a stage's own script runs that script.
        return versionLine(exe.hasPrefix("/") ? exe : absolute(exe), env: env, cwd: root).map { [cmd: $0] } ?? [:]
    }
}
