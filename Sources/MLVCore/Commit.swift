// `mlv commit`: the operation (`Commit`) and its result.
import MLVSystem
import Foundation
import MLVGit
import MLVStore

public struct TargetChange: Codable, Equatable, Sendable {
    public enum Change: String, Codable, Sendable { case added, modified, unchanged, missing }
    public var path: String
    public var kind: TargetKind
    public var change: Change
    public var snapshot: String?
    public var size: UInt64
    public var files: UInt64
    public var rows: UInt64?
    public var columns: UInt64?
}

/// A CSV/TSV committed with no row count, and why.
public struct UncountedTable: Codable, Equatable, Sendable {
    public var path: String
    public var reason: TableCount.Missing
}

public struct CommitResult: Codable, Sendable {
    public var targets: [TargetChange]
    /// Bytes of target data read from disk (stat-cache hits are not read).
    public var bytesRead: UInt64
    public var filesRead: Int
    /// File data stored for the first time (the new chunks, uncompressed; at most
    /// `bytesRead`), and everything this commit added to the store as stored (chunks after
    /// compression or as deltas, plus manifests and trees).
    public var newBytes: UInt64
    public var storedBytes: UInt64
    public var chunks: Int
    public var newChunks: Int
    /// The git commit, or nil with --no-git.
    public var commit: String?
    public var branch: String?
    /// Files over `git config mlv.largeFileWarning` that this commit put in git itself
    /// rather than in mlv's store (a `git add` of a model, say): warned about.
    public var largeFilesInGit: [LargeGitFile] = []
    /// Tables committed without rows and columns because there is no true count: warned about.
    public var uncountedTables: [UncountedTable] = []

    enum CodingKeys: String, CodingKey {
        case targets, commit, branch, chunks
        case largeFilesInGit = "large_files_in_git"
        case uncountedTables = "uncounted_tables"
        case bytesRead = "bytes_read"
        case filesRead = "files_read"
        case newBytes = "new_bytes"
        case storedBytes = "stored_bytes"
        case newChunks = "new_chunks"
    }
}

public struct LargeGitFile: Codable, Equatable, Sendable {
    public var path: String
    public var size: UInt64
}

/// `mlv commit`: snapshots the tracked targets that changed, then writes, in this order,
/// packs, the index, the pointers and the git commit, so that whatever a crash
/// interrupts, nothing refers to data that is not durable.
public struct Commit {
    public let workspace: Workspace

    public init(_ workspace: Workspace) { self.workspace = workspace }

    private var ws: Workspace { workspace }

    /// `git config mlv.largeFileWarning`: the size above which a file committed to git
    /// itself draws a warning, in git's integer form (k, m, g suffixes: 1024, 1024², 1024³);
    /// 0 turns the warning off. Default 10m (10 MiB). nil when off.
    func largeFileWarningLimit() throws -> UInt64? {
        guard let raw = try ws.git.config("mlv.largeFileWarning")?.trimmingCharacters(in: .whitespaces) else { return 10 << 20 }
        var digits = Substring(raw.lowercased())
        var unit: UInt64 = 1
        if let last = digits.last, let shift = ["k": 10, "m": 20, "g": 30][last] { unit = 1 << UInt64(shift); digits = digits.dropLast() }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let n = UInt64(digits),
              n.multipliedReportingOverflow(by: unit).overflow == false else {
            throw MLVError.invalidArgument("git config mlv.largeFileWarning is '\(raw)', not a size; set bytes with an optional k, m or g suffix, or 0 to turn the warning off (`git config mlv.largeFileWarning 50m`)")
        }
        return n == 0 ? nil : n * unit
    }

    private func selectedGitKept(_ path: String, _ paths: [String]) -> Bool {
        paths.contains { (try? ws.userPath($0)) == path }
    }

    /// Records the selected targets (all when `paths` is empty) and, unless `noGit`, commits
    /// their pointers (and mlv's metrics and params files) in git.
    public func run(message: String, paths: [String], noGit: Bool, waiting: @escaping (String) -> Void) throws -> CommitResult {
        let largeLimit = noGit ? nil : try largeFileWarningLimit()   // a bad setting stops before any work
        let lock = try ws.lock("commit", waiting: waiting)
        defer { withExtendedLifetime(lock) {} }
        // Pointers half-way between two commits are no one's intent: finish the switch first.
        if let j = try CheckoutJournal.read(ws), try j.isCurrent(ws) { throw MLVError.interruptedCheckout(to: j.branch ?? j.to.short) }
        var selected = try ws.targets()
        if !paths.isEmpty {
            let wanted = try paths.map { try ws.userPath($0) }
            for w in wanted where !selected.contains(where: { $0.path == w }) && ws.config.gitKind(of: w) == nil {
                throw Workspace.notATarget(w, targets: selected.map(\.path)) { "`mlv commit` records whole targets: run `mlv commit -m MESSAGE -- \($0)`" }
            }
            selected = selected.filter { wanted.contains($0.path) }
        }
        let store = try ws.store()
        let writer = try store.writer(compressionLevel: Int32(ws.config.compressionLevel))
        let snap = Snapshotter(ws: ws, cache: ws.loadStatCache(), writer: writer)
        snap.removesTempFiles = true
        snap.needsShape = true
        var changes: [TargetChange] = []
        var newPointers: [(String, Pointer)] = []
        // What HEAD has: a pointer an interrupted commit wrote but never committed is
        // "modified" against it, and is staged with the rest.
        var committed: [String: Pointer] = [:]
        if !noGit, let h = try ws.git.head() { for (t, p) in try ws.targets(at: h) { committed[t] = p } }
        // Data that is not the pointer's while the pointer moved since mlv last wrote it (git
        // pull, git checkout, git merge): recording it would undo that change unseen.
        var stale: [String] = []
        var uncounted: [UncountedTable] = []
        for (path, old) in selected {
            guard let w = try snap.snapshot(path, kind: old.kind, previous: old) else {
                changes.append(TargetChange(path: path, kind: old.kind, change: .missing, snapshot: old.snapshot?.hex,
                                            size: old.size, files: old.files))
                continue
            }
            if let synced = snap.cache.synced[path], let ptr = old.snapshot, synced != ptr, w.id != ptr {
                stale.append(path)
                continue
            }
            if let why = w.uncounted { uncounted.append(UncountedTable(path: path, reason: why)) }
            var p = old
            p.record(w)
            let before: Pointer? = noGit ? old : committed[path]
            let change: TargetChange.Change = before?.snapshot == nil ? .added : (p == before ? .unchanged : .modified)
            if p != old { newPointers.append((path, p)) }
            snap.cache.synced[path] = w.id
            changes.append(TargetChange(path: path, kind: p.kind, change: change, snapshot: w.id.hex, size: w.size,
                                        files: w.files, rows: w.rows, columns: w.columns))
        }
        if !stale.isEmpty { throw MLVError.staleData(stale) }
        try writer.commit()                                   // packs, then the index
        for (path, p) in newPointers { try ws.writePointer(p, for: path) }   // then pointers
        var cache = snap.cache
        try ws.saveStatCache(&cache)
        snap.saveRecordCache()
        let stats = snap.archiver.stats
        var result = CommitResult(targets: changes, bytesRead: stats.bytesRead, filesRead: stats.files,
                                  newBytes: writer.newChunkBytes, storedBytes: writer.newStoredBytes,
                                  chunks: stats.chunks, newChunks: stats.newChunks, commit: nil, branch: nil)
        result.uncountedTables = uncounted
        if noGit { return result }
        // Every selected target's pointer, not only the ones written now: one written by a
        // commit that was interrupted before `git commit` must not be left out of this one.
        let pointerFiles = selected.map { Pointer.pointerPath(for: $0.path) }.filter { FS.exists(ws.absolute($0)) }
        // Metrics and params files mlv tracks live in git: their new versions go into the
        // same commit as the data they describe.
        let gitKept = (ws.config.metrics + ws.config.paramsFiles).filter { FS.exists(ws.absolute($0)) && (paths.isEmpty || selectedGitKept($0, paths)) }
        try ws.stageInGit(pointerFiles + gitKept)
        // A merge in progress is concluded even when its result equals HEAD's tree.
        if try ws.git.indexMatchesHead() && ws.git.mergeHeads().isEmpty {
            throw MLVError.nothingToCommit(missing: changes.filter { $0.change == .missing }.map(\.path))
        }
        if let limit = largeLimit {
            let mlvOwn = Set(pointerFiles + gitKept)
            result.largeFilesInGit = try ws.git.stagedBlobs(largerThan: limit).filter { !mlvOwn.contains($0.path) }
                .map { LargeGitFile(path: $0.path, size: $0.size) }
        }
        let sig = try ws.git.signature(now: Int64(realtimeNanoseconds() / 1_000_000_000))
        let id: GitOID
        do {
            id = try ws.git.commit(message: message, signature: sig)   // last: the git commit
        } catch let e as GitError where e.isUnrecordedCommit {
            // MLVGit does not know mlv's commands: the fix, and why running it again is safe, are said here.
            throw GitError(operation: e.operation, code: e.code, message: e.message + ": free some space and run `mlv commit` again (the data is stored and the pointers are staged)",
                           isSystemFailure: true)
        }
        result.commit = id.hex
        result.branch = ws.git.currentBranch()
        return result
    }
}
