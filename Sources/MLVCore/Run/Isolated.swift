// Isolated runs (`mlv run`, `mlv repro --verify`): a stage run in a work directory holding
// exactly one commit's code and data, and the verification of committed run records.
import MLVSystem
import Foundation
import Glibc
import MLVGit
import MLVStore

/// One output compared by `mlv repro --verify`.
public struct OutputCheck: Codable, Sendable {
    public var path: String
    public var recorded: String?
    public var reproduced: String?
    public var same: Bool
}

public struct VerifyResult: Codable, Sendable {
    public var stage: String
    public var ok: Bool
    public var outputs: [OutputCheck]
    /// Metrics of the committed record against the re-run (only those that differ).
    public var metrics: [MetricChange]
    public var tolerance: Double?
}

public enum VerifyError: Error, CustomStringConvertible, Equatable {
    case noRecord(stage: String, rev: String)
    /// A committed run record that is not one (edited by hand, a bad merge).
    case badRecord(stage: String, rev: String, line: Int, why: String)

    public var description: String {
        switch self {
        case .noRecord(let s, let rev):
            return "stage \(s) has no run record at \(rev) (mlv-runs/\(s).json); run `mlv repro \(s)` and commit the record first"
        case .badRecord(let s, let rev, let line, let why):
            return "mlv-runs/\(s).json\(line > 0 ? ":\(line)" : "") at \(rev) is not a valid run record (\(why)); run `mlv repro \(s)` and commit the record it writes"
        }
    }
}

extension RunRecord {
    /// A committed record of `stage` at `rev`, read strictly: a damaged one is an error naming
    /// the file and line, not "no record" (verify) or a lineage that silently stops.
    static func parse(_ bytes: [UInt8], stage: String, rev: String) throws -> RunRecord {
        do { return try RunRecord(parsing: bytes) } catch let e as RunRecord.Invalid {
            throw VerifyError.badRecord(stage: stage, rev: rev, line: e.line, why: e.why)
        }
    }
}

/// What sets an isolated run's workspace apart: a work directory holding code and data
/// materialized from one commit, the main repository's git and store shared, its config as
/// of that commit, and nothing staged in git.
struct Isolation {
    /// The commit whose code and data it holds (its date becomes SOURCE_DATE_EPOCH).
    var pinnedCommit: GitOID
    /// The main workspace's run cache, so the run fills it.
    var sharedRunCache: String
}

extension Runner {
    /// Runs one stage in a fresh work directory under .mlv/work holding exactly the code and
    /// data pinned at `commit` (the code exported from git, the data from the store, inputs
    /// read-only), with the controlled environment; outputs go into the shared store. The
    /// work directory is removed afterwards, whatever happens.
    /// `rev`: the revision as the user typed it, for the hint when its data is not here.
    func runIsolated(_ name: String, at commit: GitOID, rev: String, output: @escaping (String) -> Void) throws -> RunRecord {
        let dir = FS.join(ws.mlvDir, "work/" + FS.scratchName(name))
        try FS.makeDirectories(dir)
        defer { makeWritable(dir); try? FS.removeTree(dir) }
        try ws.git.export(commit, to: dir)
        let cfg = try WorkTree(root: dir).read(Config.fileName).map { try Config.parse($0) } ?? Config()
        guard let stage = cfg.stages[name] else { throw PipelineError.unknownStage(name, known: cfg.stages.keys.sorted()) }
        _ = try Pipeline(cfg.stages, root: dir)
        let iso = try Workspace(at: dir, sharing: ws, config: cfg,
                                isolation: Isolation(pinnedCommit: commit, sharedRunCache: ws.runCacheDir))
        // The data every pointer at the commit pins.
        let restorer = try Restorer(store: ws.store())
        restorer.tree = iso.tree
        defer { restorer.abandon() }
        let snap = Snapshotter(ws: iso, cache: StatCache(), writer: nil)
        let pinned = try ws.targets(at: commit).filter { t in !stage.outs.contains(where: { RepoPath.isWithin(t.path, $0) }) }
        // Data of a commit this clone never fetched: say which command brings it (this runs
        // under the repository lock, so it does not fetch itself).
        let missing = try FetchMissing(ws).incomplete(pinned.compactMap { t in t.pointer.snapshot.map { NeededSnapshot(id: $0, path: t.path, rev: rev, pointer: t.pointer) } })
        if !missing.isEmpty { throw FetchMissing.notFetched(missing, fix: "run \(FetchMissing.hint(missing, paths: [])), then this command again") }
        for (path, p) in pinned {
            guard let s = p.snapshot else { continue }
            let entry = TreeEntry(name: FS.basename(path), kind: p.type == .dir ? .directory : .file,
                                  executable: p.executable, size: p.size, files: p.files, id: s)
            _ = try iso.checkBeforePlacing(entry, at: path, declared: true)
            try iso.place(entry, at: path, restorer: restorer, snap: snap)
        }
        _ = try restorer.finish()
        for d in stage.deps {
            guard FS.exists(iso.absolute(d)) else { throw PipelineError.missingDep(stage: name, path: d) }
            makeReadOnly(iso.absolute(d))
        }
        guard resolveCommand(stage.cmd[0]) != nil else { throw PipelineError.commandNotFound(stage: name, command: stage.cmd[0]) }
        let definition = ObjectID.hash(Array(stage.canonical.utf8)).hex
        let inputs = try Runner(iso).currentIDs(stage.deps)
        let params = try Runner(iso).paramValues(stage.params, stage: name)
        return try Runner(iso).runStage(name, stage, definition: definition, inputs: inputs, params: params,
                                fingerprint: fingerprint(definition, inputs, params), output: output)
    }

    /// `mlv run STAGE [--rev REV]`: the stage, isolated, on the inputs pinned at REV. At HEAD
    /// (the default) its outputs and record are then brought into the working tree and staged.
    public func runPinned(_ name: String, rev: String?, output: @escaping (String) -> Void) throws -> RunRecord {
        let lock = try ws.lock("run") { _ in }
        defer { withExtendedLifetime(lock) {} }
        let commit = try ws.resolve(rev ?? "HEAD")
        let record = try runIsolated(name, at: commit, rev: rev ?? "HEAD", output: output)
        if try ws.git.head() == commit, let stage = ws.config.stages[name] {
            for (path, id) in record.outputs { try restoreOutput(path, ObjectID(hex: id)!) }
            try ws.writeRunRecord(record)
            try trackOutputs(stage, record.outputs)
        }
        return record
    }

    /// `mlv repro --verify`: re-runs stages in isolation from the inputs pinned at REV and
    /// compares their outputs with the records committed there; `tolerance` accepts outputs
    /// that differ when every numeric metric is within it.
    public func verify(_ wanted: [String], rev: String?, tolerance: Double?, output: @escaping (String) -> Void) throws -> [VerifyResult] {
        let lock = try ws.lock("verify") { _ in }
        defer { withExtendedLifetime(lock) {} }
        let label = rev ?? "HEAD"
        let commit = try ws.resolve(label)
        guard let cfgBytes = try ws.git.blob(at: Config.fileName, in: commit) else { throw PipelineError.unknownStage(wanted.first ?? "", known: []) }
        let cfg = try Config.parse(cfgBytes)
        let order = try Pipeline(cfg.stages, root: ws.root).order(Set(wanted.isEmpty ? Array(cfg.stages.keys) : wanted))
        var results: [VerifyResult] = []
        for name in order {
            guard let bytes = try ws.git.blob(at: "\(Workspace.runsDir)/\(name).json", in: commit) else {
                throw VerifyError.noRecord(stage: name, rev: label)
            }
            let old = try RunRecord.parse(bytes, stage: name, rev: label)
            let new = try runIsolated(name, at: commit, rev: label, output: output)
            let checks = Set(old.outputs.keys).union(new.outputs.keys).sorted().map {
                OutputCheck(path: $0, recorded: old.outputs[$0], reproduced: new.outputs[$0], same: old.outputs[$0] == new.outputs[$0])
            }
            let metrics = old.metrics.changes(to: new.metrics, stage: name, files: cfg.stages[name]?.metrics ?? []).filter { $0.old != $0.new }
            var ok = checks.allSatisfy(\.same)
            if !ok, let t = tolerance {
                ok = checks.allSatisfy { $0.reproduced != nil } &&
                    metrics.allSatisfy { m in m.delta.map { abs($0) <= t } ?? false }
            }
            results.append(VerifyResult(stage: name, ok: ok, outputs: checks, metrics: metrics, tolerance: tolerance))
        }
        return results
    }
}

/// Both walk iteratively (no recursion over a tree of any depth) and never follow links.
private func makeReadOnly(_ path: String) {
    // Children first: a folder made read-only before its entries could not be listed again.
    var stack: [(String, Bool)] = [(path, false)]
    while let (p, listed) = stack.popLast() {
        guard let st = FS.lstat(p) else { continue }
        if st.st_mode & S_IFMT == S_IFDIR && !listed {
            stack.append((p, true))
            for n in (try? FS.list(p)) ?? [] { stack.append((FS.join(p, n), false)) }
        } else if st.st_mode & S_IFMT != S_IFLNK {
            chmod(p, st.st_mode & ~0o222 & 0o7777)
        }
    }
}

private func makeWritable(_ path: String) {
    var stack = [path]
    while let p = stack.popLast() {
        guard let st = FS.lstat(p), st.st_mode & S_IFMT != S_IFLNK else { continue }
        chmod(p, (st.st_mode | 0o200) & 0o7777)
        if st.st_mode & S_IFMT == S_IFDIR { for n in (try? FS.list(p)) ?? [] { stack.append(FS.join(p, n)) } }
    }
}

extension VerifyError: CategorizedError {
    public var category: ErrorCategory { .input }
}
