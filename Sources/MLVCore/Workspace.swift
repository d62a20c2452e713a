// The workspace: opening (or `mlv init`) a git working tree that uses mlv, its paths, its
// tracked targets, its config and store; every operation is its own type over it.
import MLVSystem
import Glibc
import MLVGit
import MLVStore

/// A git working tree that uses mlv: the git repository, the local `.mlv/` folder (store,
/// stat cache, lock; ignored by git) and the committed `mlv.yaml`.
public final class Workspace {
    public let git: GitRepository
    /// Absolute path of the working tree.
    public let root: String
    /// The directory the user ran mlv in, for resolving relative paths.
    public let cwd: String
    /// What may be read, written and removed on disk (see WorkTree.swift).
    public let tree: WorkTree
    public var config: Config
    /// Told of progress on long work: (what, bytes done, bytes total). Set by the CLI when
    /// a person is watching; called from the working thread.
    public var progress: ((String, UInt64, UInt64) -> Void)?

    public var mlvDir: String { FS.join(root, ".mlv") }
    public var storeDir: String { storeValue?.root ?? FS.join(mlvDir, "store") }
    public var statCachePath: String { FS.join(mlvDir, "state/stat-cache") }
    /// Record counts of table chunks already scanned (MLVStore's `RecordCache`).
    public var recordCachePath: String { FS.join(mlvDir, "state/record-cache") }
    public var lockPath: String { FS.join(mlvDir, "lock") }
    public var configPath: String { FS.join(root, Config.fileName) }

    private var storeValue: Store?
    /// Set for an isolated run's work directory (see Run/Isolated.swift), nil for the user's
    /// working tree.
    let isolation: Isolation?

    /// A workspace at `dir` that shares `main`'s git repository and store (an isolated run's).
    init(at dir: String, sharing main: Workspace, config: Config, isolation: Isolation) throws {
        git = main.git
        root = dir
        cwd = dir
        tree = WorkTree(root: dir)
        self.config = config
        self.isolation = isolation
        storeValue = try main.store()
        try FS.makeDirectories(FS.join(dir, ".mlv/state"))
    }

    init(git: GitRepository, cwd: String) throws {
        self.git = git
        self.root = git.workdir
        self.cwd = cwd
        tree = WorkTree(root: git.workdir)
        isolation = nil
        try WorkTree.checkLocalState(root: git.workdir, git: git)
        self.config = try tree.read(Config.fileName).map { try Config.parse($0) } ?? Config()
    }

    /// Opens the workspace around `cwd`. A repository whose `mlv.yaml` is committed but that
    /// has no `.mlv/` yet (a fresh clone) gets its local store here, without `mlv init`.
    public static func open(cwd: String) throws -> Workspace {
        let git: GitRepository
        do { git = try GitRepository(discover: cwd) } catch let e as GitError where e.isNotFound {
            throw MLVError.notAGitRepo(cwd)
        }
        let ws = try Workspace(git: git, cwd: cwd)
        if FS.lstat(ws.mlvDir) == nil {
            guard FS.exists(ws.configPath) else { throw MLVError.notInitialized(ws.root) }
            try ws.createLocalState()
        }
        return ws
    }

    /// `mlv init`: creates (or, run again, completes) the local store, the committed config,
    /// the ignore and attribute lines, and git's merge and diff drivers. Returns what it
    /// created, and what it repaired (drivers and hooks an older mlv registered differently).
    public static func initialize(cwd: String, createGit: Bool) throws -> (Workspace, created: [String], repaired: [String]) {
        var created: [String] = []
        let git: GitRepository
        do { git = try GitRepository(discover: cwd) } catch let e as GitError where e.isNotFound {
            guard createGit else { throw MLVError.notAGitRepo(cwd) }
            git = try GitRepository.create(at: cwd)
            created.append("git repository")
        }
        let ws = try Workspace(git: git, cwd: cwd)
        if FS.lstat(ws.mlvDir) == nil {
            try ws.createLocalState()
            created.append(".mlv/ (local store)")
        }
        if !FS.exists(ws.configPath) {
            try ws.config.save(path: ws.configPath)
            created.append(Config.fileName)
        }
        if try ws.ensureLine("/.mlv/", in: ".gitignore") { created.append(".gitignore entry for .mlv/") }
        if try ws.ensureLine("*.mlv merge=mlv", in: ".gitattributes") { created.append(".gitattributes merge driver line") }
        if try ws.ensureLine("*.mlv diff=mlv", in: ".gitattributes") { created.append(".gitattributes diff driver line") }
        try git.stage(add: [Config.fileName, ".gitignore", ".gitattributes"])
        // Run again, init repairs what an older mlv registered by the absolute path of its
        // binary (which breaks when the binary moves).
        let repaired = try ws.registerDrivers() + Hooks(ws).repair()
        return (ws, created, repaired)
    }

    private func createLocalState() throws {
        try FS.makeDirectories(FS.join(mlvDir, "state"))
        _ = try store()
        // Local git config is not cloned, so every new clone registers the drivers again.
        _ = try registerDrivers()
    }

    /// git's merge driver and `git diff` textconv driver for pointer files, in .git/config.
    /// They call `mlv` from PATH, as the hooks do, so they survive the binary moving.
    /// Returns the settings it changed.
    func registerDrivers() throws -> [String] {
        let settings = [("merge.mlv.name", "mlv pointer merge driver"),
                        ("merge.mlv.driver", "mlv merge-driver %O %A %B %P"),
                        ("diff.mlv.textconv", "mlv diff-driver")]
        var changed: [String] = []
        for (key, value) in settings where try git.config(key) != value {
            try git.setConfig(key, value)
            changed.append("git config \(key)")
        }
        return changed
    }

    public func store() throws -> Store {
        if let s = storeValue { return s }
        let s = try Store(root: storeDir)
        storeValue = s
        return s
    }

    /// Takes the writer lock, telling the user if it has to wait.
    public func lock(_ what: String, waiting: @escaping (String) -> Void) throws -> StoreLock {
        try StoreLock(path: lockPath, what: what, waiting: waiting)
    }

    public func absolute(_ rel: String) -> String { FS.join(root, rel) }

    public func userPath(_ input: String) throws -> String {
        try RepoPath.fromUser(input, cwd: cwd, root: root)
    }

    // MARK: Targets

    /// The tracked targets: every pointer file in git's index, read from the working tree.
    /// A pointer with an unresolved merge conflict stops the command (its data is undecided)
    /// unless `skippingConflicts`, for `status`, which reports it.
    public func targets(skippingConflicts: Bool = false) throws -> [(path: String, pointer: Pointer)] {
        let conflicts = Set(try git.conflictedPaths().filter { $0.hasSuffix(Pointer.suffix) })
        if !skippingConflicts, let c = conflicts.sorted().first { throw MLVError.conflictedPointer(c) }
        var out: [(String, Pointer)] = []
        for p in try git.indexPaths(endingWith: Pointer.suffix, regularFilesOnly: true).sorted() where !conflicts.contains(p) {
            let target = String(p.dropLast(Pointer.suffix.count))
            guard (try? RepoPath.validate(target, source: p)) != nil else { continue }
            // A pointer deleted in the working tree: untracked. One reached through a link
            // that leads out of the tree is refused (WorkTree.read).
            guard let bytes = try tree.read(p, limit: 1 << 20) else { continue }
            out.append((target, try Pointer(parsing: bytes, path: p)))
        }
        try Workspace.checkNoNesting(out.map(\.0), context: "both tracked")
        return out
    }

    /// The error for `rel`, which names no target: when it lies inside a folder target, that
    /// one and `how` to act on it whole (`mlv track` of a path inside a target is refused as
    /// nested, so "run `mlv track`" would be wrong advice); else "not tracked".
    static func notATarget(_ rel: String, targets: [String], how: (String) -> String) -> MLVError {
        if let outer = targets.first(where: { RepoPath.isWithin(rel, $0) && rel != $0 }) {
            return .invalidArgument("\(rel) is inside the folder target \(outer); \(how(shellQuote(outer)))")
        }
        return .notTracked(rel)
    }

    /// Refuses targets that lie inside other targets. Checkout writes a folder target's whole
    /// content, links included, so a target below it would be written through whatever the
    /// folder holds — a symlink `d/s -> /outside` would carry `d/s/x` outside the tree.
    static func checkNoNesting(_ paths: [String], context: String) throws {
        if let (inner, outer) = nestings(paths).first { throw MLVError.nestedTarget(inner, inside: "\(outer) (\(context))") }
    }

    /// Each path that lies inside another of `paths`, with the nearest one holding it.
    static func nestings(_ paths: [String]) -> [(inner: String, outer: String)] {
        let all = Set(paths)
        var out: [(String, String)] = []
        for p in paths {
            var parent = RepoPath.parent(p)
            while !parent.isEmpty {
                if all.contains(parent) { out.append((p, parent)); break }
                parent = RepoPath.parent(parent)
            }
        }
        return out
    }

    /// The pointers recorded in a commit.
    public func targets(at commit: GitOID) throws -> [(path: String, pointer: Pointer)] {
        var out: [(String, Pointer)] = []
        for p in try git.paths(in: commit, endingWith: Pointer.suffix) {
            let target = String(p.dropLast(Pointer.suffix.count))
            try RepoPath.validate(target, source: "\(p) at \(commit.short)")
            guard let bytes = try git.blob(at: p, in: commit, limit: Pointer.maxBytes) else { continue }
            out.append((target, try Pointer(parsing: bytes, path: "\(p) at \(commit.short)")))
        }
        try Workspace.checkNoNesting(out.map(\.0), context: "both tracked at \(commit.short)")
        return out
    }

    /// The pointers of a commit for walks over the whole history (gc, fsck, push of every
    /// commit): a file ending in `.mlv` that is not a valid pointer, or a target nested in
    /// another, is reported in `skipped` and left out, so one bad file in an old commit
    /// does not stop every later gc and fsck. Commands that act on one commit use
    /// `targets(at:)`, which refuses.
    func readableTargets(at commit: GitOID, skipped: inout [String]) throws -> [(path: String, pointer: Pointer)] {
        var out: [(String, Pointer)] = []
        for p in try git.paths(in: commit, endingWith: Pointer.suffix) {
            let target = String(p.dropLast(Pointer.suffix.count))
            do {
                try RepoPath.validate(target, source: "\(p) at \(commit.short)")
                guard let bytes = try git.blob(at: p, in: commit, limit: Pointer.maxBytes) else { continue }
                out.append((target, try Pointer(parsing: bytes, path: "\(p) at \(commit.short)")))
            } catch let e as MLVError {
                skipped.append("\(e)")
            } catch let e as GitError where !e.isSystemFailure {
                skipped.append("\(e)")
            }
        }
        let nested = Workspace.nestings(out.map(\.0))
        for (inner, outer) in nested {
            skipped.append("\(MLVError.nestedTarget(inner, inside: "\(outer) (both tracked at \(commit.short))"))")
        }
        let inner = Set(nested.map(\.inner))
        return out.filter { !inner.contains($0.0) }
    }

    /// Finds the stored entry for `path` (a target or a path inside one) at a revision.
    public func storedEntry(rev: String, path: String) throws -> TreeEntry {
        let c = try resolve(rev)
        let rel = try RepoPath.fromUser(path, cwd: root, root: root)
        guard let t = try targets(at: c).first(where: { RepoPath.isWithin(rel, $0.path) }) else {
            throw MLVError.pathNotInRevision(path: rel, rev: rev)
        }
        guard let s = t.pointer.snapshot else { throw MLVError.pathNotInRevision(path: rel, rev: rev) }
        let root = TreeEntry(name: FS.basename(t.path), kind: t.pointer.type == .dir ? .directory : .file,
                             executable: t.pointer.executable, size: t.pointer.size, files: t.pointer.files, id: s)
        let sub = String(rel.dropFirst(t.path.count)).split(separator: "/").map(String.init)
        guard let e = try entry(in: root, at: sub) else { throw MLVError.pathNotInRevision(path: rel, rev: rev) }
        return e
    }

    public func resolve(_ rev: String) throws -> GitOID {
        do { return try git.resolve(rev) } catch let e as GitError where e.isNotFound || e.code == -1 || e.code == -5 {
            throw MLVError.unknownRevision(rev)
        } catch is GitError {
            throw MLVError.unknownRevision(rev)
        }
    }

    /// Stages working files in git (`git add`), each checked first the way every other access
    /// is (WorkTree): libgit2 follows links in the folders above a path, so a committed
    /// `cfg -> .git` with `metrics: [cfg/config]` would commit .git/config (tokens and all).
    func stageInGit(_ add: [String], remove: [String] = []) throws {
        for p in add {
            try tree.checkParents(absolute(p))
            _ = try tree.resolvedForReading(p)
        }
        try git.stage(add: add, remove: remove)
    }

    public func writePointer(_ p: Pointer, for target: String) throws {
        try tree.checkParents(absolute(Pointer.pointerPath(for: target)))
        try FS.atomicWrite(Array(p.encoded().utf8), to: absolute(Pointer.pointerPath(for: target)))
    }

    public func loadStatCache() -> StatCache { StatCache.load(path: statCachePath) }

    public func saveStatCache(_ c: inout StatCache) throws {
        try FS.makeDirectories(FS.dirname(statCachePath))   // .mlv/state may have been deleted by hand
        try c.save(path: statCachePath)
    }

    // MARK: Ignore files

    static let ignoreBegin = "# >>> mlv: tracked data, kept out of git (managed by `mlv track`)"
    static let ignoreEnd = "# <<< mlv"

    /// Adds `line` to a root-level file if it is not there. Returns true when it changed the file.
    @discardableResult
    func ensureLine(_ line: String, in file: String) throws -> Bool {
        let path = absolute(file)
        let text = String(decoding: try tree.read(file) ?? [], as: UTF8.self)
        if text.split(separator: "\n").contains(where: { $0.trimmed == line }) { return false }
        let sep = text.isEmpty || text.hasSuffix("\n") ? "" : "\n"
        try FS.atomicWrite(Array((text + sep + line + "\n").utf8), to: path)
        return true
    }

    /// Adds or removes `/target` in the mlv block of the root .gitignore.
    func setIgnored(_ target: String, _ ignored: Bool) throws {
        let path = absolute(".gitignore")
        let text = String(decoding: try tree.read(".gitignore") ?? [], as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        let entry = "/" + escapeIgnore(target)
        var begin = lines.firstIndex(of: Workspace.ignoreBegin)
        if begin == nil {
            guard ignored else { return }
            lines.append(Workspace.ignoreBegin)
            lines.append(Workspace.ignoreEnd)
            begin = lines.count - 2
        }
        let end = lines[begin!...].firstIndex(of: Workspace.ignoreEnd) ?? lines.count
        var block = Array(lines[(begin! + 1)..<end])
        let had = block.contains(entry)
        if ignored == had { return }
        if ignored { block.append(entry); block.sort() } else { block.removeAll { $0 == entry } }
        lines.replaceSubrange((begin! + 1)..<end, with: block)
        try FS.atomicWrite(Array((lines.joined(separator: "\n") + "\n").utf8), to: path)
    }
}

/// Escapes gitignore's special characters so a path matches only itself.
func escapeIgnore(_ path: String) -> String {
    var out = ""
    for ch in path {
        if "*?[]\\!# ".contains(ch) { out.append("\\") }
        out.append(ch)
    }
    return out
}

/// Single-quotes a word for /bin/sh, unless it is plain (revisions like HEAD~1 and @^ stay
/// readable; a leading `~` is quoted, since sh expands it).
public func shellQuote(_ s: String) -> String {
    if !s.isEmpty && !s.hasPrefix("~") && s.allSatisfy({ $0.isLetter || $0.isNumber || "/._-+=:,@^~%".contains($0) }) { return s }
    return "'" + s.replacing("'", with: "'\\''") + "'"
}
