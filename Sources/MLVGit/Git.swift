// MLVGit — the only module that imports libgit2. A `GitRepository` owns a `git_repository*`;
// every libgit2 call goes through `check`, which turns a negative return code into a
// `GitError` carrying libgit2's message, read right after the failing call (it is
// thread-local and overwritten by the next call).
import MLVSystem
import CGit2
import Glibc

private let libgit2Ready: Bool = {
    git_libgit2_init()
    return true
}()

public struct GitError: Error, CustomStringConvertible, Equatable {
    public let operation: String
    public let code: Int32
    public let message: String
    /// The operating system failed a read or write (disk full, permission denied), as
    /// opposed to git refusing bad input: libgit2's error class `GIT_ERROR_OS`, or a file
    /// write of this module's own. The CLI maps it to the I/O exit status.
    public let isSystemFailure: Bool

    public init(operation: String, code: Int32, message: String, isSystemFailure: Bool = false) {
        self.operation = operation
        self.code = code
        self.message = message
        self.isSystemFailure = isSystemFailure
    }

    public var description: String {
        if message.isEmpty { return "git \(operation) failed (code \(code))" }
        guard isSystemFailure && code != -1 else { return message }
        // libgit2's own OS errors rarely name the file: say which git step failed, and the fix.
        let full = message.contains("No space left") ? "; free some disk space and run the command again" : ""
        return "git \(operation): \(message)\(full)"
    }

    public var isNotFound: Bool { code == GIT_ENOTFOUND.rawValue }
    /// A checkout refused for local changes or files in the way (`GIT_ECONFLICT`): libgit2
    /// finds these while planning, before it writes anything.
    public var isConflict: Bool { code == GIT_ECONFLICT.rawValue }
}

@discardableResult
private func check(_ code: Int32, _ operation: String) throws -> Int32 {
    guard code < 0 else { return code }
    var message = "", system = false
    if let e = git_error_last() {
        if let m = e.pointee.message { message = String(cString: m) }
        system = e.pointee.klass == Int32(GIT_ERROR_OS.rawValue)
    }
    throw GitError(operation: operation, code: code, message: message, isSystemFailure: system)
}

/// A commit id (SHA-1, 20 bytes).
public struct GitOID: Hashable, Sendable, CustomStringConvertible {
    public let raw: git_oid

    init(_ raw: git_oid) { self.raw = raw }

    public var hex: String {
        var r = raw
        var buf = [UInt8](repeating: 0, count: 40)
        buf.withUnsafeMutableBytes { _ = git_oid_fmt($0.baseAddress!.assumingMemoryBound(to: CChar.self), &r) }
        return String(decoding: buf, as: UTF8.self)
    }

    public var short: String { String(hex.prefix(10)) }
    public var description: String { hex }

    public static func == (a: GitOID, b: GitOID) -> Bool {
        var x = a.raw, y = b.raw
        return git_oid_equal(&x, &y) != 0
    }

    public func hash(into h: inout Hasher) {
        withUnsafeBytes(of: raw.id) { h.combine(bytes: $0) }
    }
}

public struct GitSignature: Sendable, Equatable {
    public var name: String
    public var email: String
    public var time: Int64      // seconds since the epoch
    public var offset: Int32    // minutes east of UTC
}

public struct CommitInfo: Sendable {
    public var id: GitOID
    public var summary: String
    public var message: String
    public var author: GitSignature
    public var parents: [GitOID]
}

/// A file changed in git's view (code, configs, pointer files), for refusing to move HEAD
/// over uncommitted work.
public struct GitChange: Sendable, Equatable {
    public var path: String
    public var staged: Bool
}

public final class GitRepository {
    let repo: OpaquePointer
    /// Absolute path of the working tree, without a trailing slash.
    public let workdir: String

    /// Opens the repository containing `path`, searching parent folders (`git_repository_open_ext`).
    public init(discover path: String) throws {
        _ = libgit2Ready
        var r: OpaquePointer?
        try check(git_repository_open_ext(&r, path, 0, nil), "open")
        repo = r!
        guard let wd = git_repository_workdir(repo) else {
            git_repository_free(repo)
            throw GitError(operation: "open", code: -1, message: "\(path): a bare git repository has no working tree")
        }
        var w = String(cString: wd)
        while w.count > 1 && w.hasSuffix("/") { w.removeLast() }
        workdir = w
    }

    /// Creates a new repository (`git_repository_init`).
    public static func create(at path: String) throws -> GitRepository {
        _ = libgit2Ready
        var r: OpaquePointer?
        try check(git_repository_init(&r, path, 0), "init")
        git_repository_free(r)
        return try GitRepository(discover: path)
    }

    deinit { git_repository_free(repo) }

    /// The `.git` folder (`git_repository_path`), without a trailing slash.
    public var gitDir: String {
        var p = String(cString: git_repository_path(repo))
        while p.hasSuffix("/") { p.removeLast() }
        return p
    }

    /// Resolves a revision (`git_revparse_single`, peeled to a commit): `HEAD~2`, a branch, a tag, a short id.
    public func resolve(_ rev: String) throws -> GitOID {
        var obj: OpaquePointer?
        try check(git_revparse_single(&obj, repo, rev), "resolve \(rev)")
        defer { git_object_free(obj) }
        var commit: OpaquePointer?
        try check(git_object_peel(&commit, obj, GIT_OBJECT_COMMIT), "resolve \(rev)")
        defer { git_object_free(commit) }
        return GitOID(git_object_id(commit).pointee)
    }

    /// HEAD's commit, or nil on a branch with no commits yet.
    public func head() throws -> GitOID? {
        var oid = git_oid()
        let rc = git_reference_name_to_id(&oid, repo, "HEAD")
        if rc == GIT_ENOTFOUND.rawValue || rc == GIT_EUNBORNBRANCH.rawValue { return nil }
        try check(rc, "read HEAD")
        return GitOID(oid)
    }

    /// The branch HEAD points to (`main`), or nil when HEAD is detached.
    public func currentBranch() -> String? {
        var ref: OpaquePointer?
        guard git_reference_lookup(&ref, repo, "HEAD") == 0 else { return nil }
        defer { git_reference_free(ref) }
        guard git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC, let t = git_reference_symbolic_target(ref) else { return nil }
        let target = String(cString: t)
        return target.hasPrefix("refs/heads/") ? String(target.dropFirst("refs/heads/".count)) : nil
    }

    public func isLocalBranch(_ name: String) -> Bool {
        var ref: OpaquePointer?
        guard git_reference_lookup(&ref, repo, "refs/heads/" + name) == 0 else { return false }
        git_reference_free(ref)
        return true
    }

    private func withTree<T>(of commit: GitOID, _ body: (OpaquePointer) throws -> T) throws -> T {
        var c: OpaquePointer?
        var oid = commit.raw
        try check(git_commit_lookup(&c, repo, &oid), "read commit \(commit.short)")
        defer { git_commit_free(c) }
        var tree: OpaquePointer?
        try check(git_commit_tree(&tree, c), "read tree of \(commit.short)")
        defer { git_tree_free(tree) }
        return try body(tree!)
    }

    /// Runs `body` on the tree entry at `path` in a commit; nil when there is none.
    private func withEntry<T>(_ path: String, in commit: GitOID, _ body: (OpaquePointer?) throws -> T?) throws -> T? {
        try withTree(of: commit) { tree in
            var entry: OpaquePointer?
            let rc = git_tree_entry_bypath(&entry, tree, path)
            if rc == GIT_ENOTFOUND.rawValue { return nil }
            try check(rc, "find \(path)")
            defer { git_tree_entry_free(entry) }
            return try body(entry)
        }
    }

    /// Whether a commit has a file (a blob) at `path`, without reading it.
    public func hasFile(_ path: String, in commit: GitOID) throws -> Bool {
        try withEntry(path, in: commit) { git_tree_entry_type($0) == GIT_OBJECT_BLOB } ?? false
    }

    /// The content of a file at a commit, or nil when the commit has no such file
    /// (`git_tree_entry_bypath`, `git_blob_lookup`). A blob larger than `limit` bytes is an
    /// error before anything is copied: a few MB of history can hold a gigabyte blob that
    /// compresses to nothing.
    public func blob(at path: String, in commit: GitOID, limit: Int = 64 << 20) throws -> [UInt8]? {
        try withEntry(path, in: commit) { entry in
            guard git_tree_entry_type(entry) == GIT_OBJECT_BLOB else { return nil }
            // The size from the object's header first (`git_odb_read_header`): looking the blob
            // up would inflate all of it, however big, before its size could be checked.
            var odb: OpaquePointer?
            try check(git_repository_odb(&odb, repo), "open the object database")
            defer { git_odb_free(odb) }
            var declared = 0
            var type = GIT_OBJECT_ANY
            try check(git_odb_read_header(&declared, &type, odb, git_tree_entry_id(entry)), "read \(path)")
            guard declared <= limit else {
                throw GitError(operation: "read \(path)", code: -1, message: "\(path) at \(commit.short) is \(declared) bytes, more than the \(limit) mlv reads from a file of its kind; it is not what its name says")
            }
            var blob: OpaquePointer?
            try check(git_blob_lookup(&blob, repo, git_tree_entry_id(entry)), "read \(path)")
            defer { git_blob_free(blob) }
            let size = Int(git_blob_rawsize(blob))
            guard size > 0, let p = git_blob_rawcontent(blob) else { return [] }
            return Array(UnsafeRawBufferPointer(start: p, count: size))
        }
    }

    /// Paths of all blobs in a commit's tree whose name ends with `suffix` (`git_tree_walk`).
    public func paths(in commit: GitOID, endingWith suffix: String) throws -> [String] {
        final class Box { var paths: [String] = []; let suffix: String; init(_ s: String) { suffix = s } }
        let box = Box(suffix)
        try withTree(of: commit) { tree in
            let cb: git_treewalk_cb = { root, entry, payload in
                let box = Unmanaged<Box>.fromOpaque(payload!).takeUnretainedValue()
                // Regular files only: a symlink or a submodule with a matching name is none.
                let mode = git_tree_entry_filemode(entry)
                guard mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE else { return 0 }
                let name = String(cString: git_tree_entry_name(entry))
                if name.hasSuffix(box.suffix) { box.paths.append(String(cString: root!) + name) }
                return 0
            }
            try check(git_tree_walk(tree, GIT_TREEWALK_PRE, cb, Unmanaged.passUnretained(box).toOpaque()), "walk tree")
        }
        return box.paths.sorted()
    }

    /// Files whose index or working copy differs from HEAD, untracked files excluded (`git_status_list_new`).
    public func changes() throws -> [GitChange] {
        var opts = git_status_options()
        try check(git_status_options_init(&opts, UInt32(GIT_STATUS_OPTIONS_VERSION)), "status")
        opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
        opts.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue
        var list: OpaquePointer?
        try check(git_status_list_new(&list, repo, &opts), "status")
        defer { git_status_list_free(list) }
        var out: [GitChange] = []
        let staged = GIT_STATUS_INDEX_NEW.rawValue | GIT_STATUS_INDEX_MODIFIED.rawValue | GIT_STATUS_INDEX_DELETED.rawValue
            | GIT_STATUS_INDEX_RENAMED.rawValue | GIT_STATUS_INDEX_TYPECHANGE.rawValue
        let unstaged = GIT_STATUS_WT_MODIFIED.rawValue | GIT_STATUS_WT_DELETED.rawValue | GIT_STATUS_WT_TYPECHANGE.rawValue
            | GIT_STATUS_WT_RENAMED.rawValue
        for i in 0..<git_status_list_entrycount(list) {
            guard let e = git_status_byindex(list, i)?.pointee else { continue }
            let s = e.status.rawValue
            guard s & (staged | unstaged) != 0 else { continue }
            let delta = e.head_to_index ?? e.index_to_workdir
            guard let d = delta, let p = d.pointee.new_file.path ?? d.pointee.old_file.path else { continue }
            out.append(GitChange(path: String(cString: p), staged: s & staged != 0))
        }
        return out
    }

    /// What `changes()` lists, less the paths where a checkout of `target` loses nothing:
    /// the path is the same in HEAD and `target` (checkout does not touch it), or both the
    /// index entry and the working file hold HEAD's or `target`'s version (or are absent
    /// where that commit has no such file). That is the state an interrupted checkout
    /// leaves (some files written, HEAD not yet moved); git's own checkout lets such paths
    /// through for the same reason.
    public func changes(against target: GitOID) throws -> [GitChange] {
        let all = try changes()
        guard !all.isEmpty else { return all }
        let index = try openIndex()
        defer { git_index_free(index) }
        // HEAD's tree is opened once, not per changed path.
        func keep(_ tree: OpaquePointer, _ headTree: OpaquePointer?) throws -> [GitChange] {
            try all.filter { c in
                let want = treeEntryID(tree, c.path)
                let was = headTree.flatMap { treeEntryID($0, c.path) }
                let staged = git_index_get_bypath(index, c.path, 0)?.pointee.id
                var onDisk: git_oid? = nil
                if access(workdir + "/" + c.path, F_OK) == 0 {
                    var oid = git_oid()
                    try check(git_repository_hashfile(&oid, repo, c.path, GIT_OBJECT_BLOB, nil), "hash \(c.path)")
                    onDisk = oid
                }
                func same(_ a: git_oid?, _ b: git_oid?) -> Bool {
                    guard var x = a, var y = b else { return a == nil && b == nil }
                    return git_oid_equal(&x, &y) != 0
                }
                // The same in both commits: checkout leaves the file alone, local change and all.
                if same(want, was) { return false }
                let recorded = { (x: git_oid?) in same(x, want) || same(x, was) }
                return !(recorded(staged) && recorded(onDisk))
            }
        }
        return try withTree(of: target) { tree in
            guard let h = try head() else { return try keep(tree, nil) }
            return try withTree(of: h) { try keep(tree, $0) }
        }
    }

    private func treeEntryID(_ tree: OpaquePointer, _ path: String) -> git_oid? {
        var entry: OpaquePointer?
        guard git_tree_entry_bypath(&entry, tree, path) == 0 else { return nil }
        defer { git_tree_entry_free(entry) }
        return git_tree_entry_id(entry).pointee
    }

    /// The committer/author identity the way `git commit` finds it: GIT_AUTHOR_NAME/EMAIL/DATE
    /// from the environment, else user.name/user.email from git config.
    public func signature(now: Int64) throws -> GitSignature {
        let env = ProcessEnv()
        var name = env["GIT_AUTHOR_NAME"], email = env["GIT_AUTHOR_EMAIL"]
        if name == nil || email == nil {
            var cfg: OpaquePointer?
            try check(git_repository_config_snapshot(&cfg, repo), "read config")
            defer { git_config_free(cfg) }
            func get(_ key: String) -> String? {
                var v: UnsafePointer<CChar>?
                return git_config_get_string(&v, cfg, key) == 0 ? v.map { String(cString: $0) } : nil
            }
            name = name ?? get("user.name")
            email = email ?? get("user.email")
        }
        guard let n = name, !n.isEmpty, let e = email, !e.isEmpty else {
            throw GitError(operation: "signature", code: -1, message:
                "git does not know who you are; run `git config --global user.name \"Your Name\"` and `git config --global user.email you@example.com`")
        }
        var time = now, offset: Int32 = 0
        if let d = env["GIT_AUTHOR_DATE"], let parsed = parseGitDate(d) { (time, offset) = parsed }
        return GitSignature(name: n, email: e, time: time, offset: offset)
    }

    /// Commits git's index as it is on top of HEAD, moving the current branch (or HEAD) to the
    /// new commit (`git_index_write_tree`, `git_commit_create`). Stage with `stage` first.
    public func commit(message: String, signature: GitSignature) throws -> GitOID {
        let index = try openIndex()
        defer { git_index_free(index) }
        var treeID = git_oid()
        try check(git_index_write_tree(&treeID, index), "write tree")
        var tree: OpaquePointer?
        try check(git_tree_lookup(&tree, repo, &treeID), "read tree")
        defer { git_tree_free(tree) }
        var sig: UnsafeMutablePointer<git_signature>?
        try check(git_signature_new(&sig, signature.name, signature.email, signature.time, signature.offset), "signature")
        defer { git_signature_free(sig) }
        var parents: [OpaquePointer?] = []
        defer { parents.forEach { git_commit_free($0) } }
        if let h = try head() {
            var p: OpaquePointer?
            var oid = h.raw
            try check(git_commit_lookup(&p, repo, &oid), "read HEAD commit")
            parents.append(p)
        }
        // During a `git merge` (MERGE_HEAD present) the commit concludes it, with the merged
        // commits as further parents, as `git commit` does; the merge state is then cleared.
        let merging = try mergeHeads()
        for m in merging {
            var p: OpaquePointer?
            var oid = m.raw
            try check(git_commit_lookup(&p, repo, &oid), "read MERGE_HEAD commit \(m.short)")
            parents.append(p)
        }
        var out = git_oid()
        _ = try parents.withUnsafeMutableBufferPointer { pp in
            try check(git_commit_create(&out, repo, "HEAD", sig, sig, nil, message, tree, pp.count, pp.baseAddress), "commit")
        }
        // Seen on a full disk: git_commit_create returned success while HEAD stayed where it
        // was. Only a commit that a fresh look at the repository finds at HEAD is reported.
        let made = GitOID(out)
        if !merging.isEmpty { try check(git_repository_state_cleanup(repo), "clear the merge state") }
        let fresh = try GitRepository(discover: workdir)
        guard (try? fresh.head()) == made, (try? fresh.commitInfo(made)) != nil else {
            throw GitError(operation: "commit", code: -1, message:
                "git did not record the commit (HEAD did not move to \(made.short)); the disk may be full: free some space and run `mlv commit` again (the data is stored and the pointers are staged)",
                isSystemFailure: true)
        }
        return made
    }

    /// The commits a `git merge` in progress is merging (`git_repository_mergehead_foreach`).
    public func mergeHeads() throws -> [GitOID] {
        final class Box { var ids: [GitOID] = [] }
        let box = Box()
        let rc = git_repository_mergehead_foreach(repo, { oid, payload in
            guard let oid, let payload else { return 0 }
            Unmanaged<Box>.fromOpaque(payload).takeUnretainedValue().ids.append(GitOID(oid.pointee))
            return 0
        }, Unmanaged.passUnretained(box).toOpaque())
        if rc == GIT_ENOTFOUND.rawValue { return [] }
        try check(rc, "read MERGE_HEAD")
        return box.ids
    }

    /// Checks out a commit's tree into the working tree and moves HEAD to the branch `branch`,
    /// or detaches it at `commit` (`git_checkout_tree`, `git_repository_set_head[_detached]`).
    /// With `force`, local changes to files git tracks are overwritten.
    /// `git checkout`: files, index, then HEAD. Files for which `isOwn` holds (mlv's pointers
    /// and config) are written here, each atomically (temp, fsync, rename), after the rest:
    /// libgit2 writes files in place, and a process killed meanwhile would leave one
    /// truncated, which for a pointer or mlv.yaml would stop every later command. The rest
    /// goes through libgit2, limited to the paths that differ from HEAD.
    public func checkout(_ commit: GitOID, branch: String?, force: Bool, atomically isOwn: (String) -> Bool = { _ in false }) throws {
        var obj: OpaquePointer?
        var oid = commit.raw
        try check(git_object_lookup(&obj, repo, &oid, GIT_OBJECT_COMMIT), "read \(commit.short)")
        defer { git_object_free(obj) }
        let changed = try changedPaths(from: head(), to: commit)
        let own = changed.filter(isOwn)
        let others = changed.filter { !isOwn($0) }
        // Only paths that differ between the two commits are touched (exact names), as git
        // does: a local change to a file that is the same in both is kept, even with force.
        if !others.isEmpty {
            var opts = git_checkout_options()
            try check(git_checkout_options_init(&opts, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "checkout")
            opts.checkout_strategy = (force ? GIT_CHECKOUT_FORCE.rawValue : GIT_CHECKOUT_SAFE.rawValue)
                | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH.rawValue
            var cPaths = others.map { strdup($0) }
            defer { cPaths.forEach { free($0) } }
            try cPaths.withUnsafeMutableBufferPointer { buf in
                opts.paths = git_strarray(strings: buf.baseAddress, count: buf.count)
                try check(git_checkout_tree(repo, obj, &opts), "checkout \(commit.short)")
            }
        }
        for path in own {
            let abs = workdir + "/" + path
            if let bytes = try blob(at: path, in: commit) {
                try FS.makeDirectories(FS.dirname(abs))
                try FS.atomicWrite(bytes, to: abs)
            } else if unlink(abs) != 0 && errno != ENOENT {
                throw IOError("remove", abs)
            }
        }
        if !own.isEmpty {
            let index = try openIndex()
            defer { git_index_free(index) }
            try check(git_index_read(index, 1), "read index")
            for path in own {
                if access(workdir + "/" + path, F_OK) == 0 {
                    try check(git_index_add_bypath(index, path), "stage \(path)")
                } else {
                    let rc = git_index_remove_bypath(index, path)
                    if rc != 0 && rc != GIT_ENOTFOUND.rawValue { try check(rc, "unstage \(path)") }
                }
            }
            try check(git_index_write(index), "write index")
        }
        if let b = branch {
            try check(git_repository_set_head(repo, "refs/heads/" + b), "move HEAD to \(b)")
        } else {
            try check(git_repository_set_head_detached(repo, &oid), "move HEAD to \(commit.short)")
        }
    }

    /// Paths whose content differs between two commits (all of `to`'s when `from` is nil).
    public func changedPaths(from: GitOID?, to: GitOID) throws -> [String] {
        try withTree(of: to) { newTree in
            func diff(_ oldTree: OpaquePointer?) throws -> [String] {
                var d: OpaquePointer?
                try check(git_diff_tree_to_tree(&d, repo, oldTree, newTree, nil), "compare trees")
                defer { git_diff_free(d) }
                var out: [String] = []
                for i in 0..<git_diff_num_deltas(d) {
                    guard let delta = git_diff_get_delta(d, i)?.pointee else { continue }
                    for p in [delta.old_file.path, delta.new_file.path] {
                        if let p { out.append(String(cString: p)) }
                    }
                }
                return Array(Set(out)).sorted()
            }
            if let f = from { return try withTree(of: f) { try diff($0) } }
            return try diff(nil)
        }
    }

    public func commitInfo(_ id: GitOID) throws -> CommitInfo {
        var c: OpaquePointer?
        var oid = id.raw
        try check(git_commit_lookup(&c, repo, &oid), "read commit \(id.short)")
        defer { git_commit_free(c) }
        let a = git_commit_author(c)!.pointee
        let sig = GitSignature(name: String(cString: a.name), email: String(cString: a.email),
                               time: Int64(a.when.time), offset: Int32(a.when.offset))
        var parents: [GitOID] = []
        for i in 0..<git_commit_parentcount(c) { parents.append(GitOID(git_commit_parent_id(c, i).pointee)) }
        return CommitInfo(id: id, summary: git_commit_summary(c).map { String(cString: $0) } ?? "",
                          message: git_commit_message(c).map { String(cString: $0) } ?? "",
                          author: sig, parents: parents)
    }

    /// Commits reachable from `start`, newest first, topologically (`git_revwalk`).
    public func history(from start: GitOID, limit: Int? = nil) throws -> [GitOID] {
        var walk: OpaquePointer?
        try check(git_revwalk_new(&walk, repo), "log")
        defer { git_revwalk_free(walk) }
        try check(git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_TIME.rawValue), "log")
        var s = start.raw
        try check(git_revwalk_push(walk, &s), "log")
        var out: [GitOID] = []
        var oid = git_oid()
        while git_revwalk_next(&oid, walk) == 0 {
            out.append(GitOID(oid))
            if let l = limit, out.count >= l { break }
        }
        return out
    }

    /// Saves local changes to files git tracks as a stash entry and resets them, like
    /// `git stash` (`git_stash_save`). Returns nil when there was nothing to save.
    public func stash(message: String, signature: GitSignature) throws -> GitOID? {
        var sig: UnsafeMutablePointer<git_signature>?
        try check(git_signature_new(&sig, signature.name, signature.email, signature.time, signature.offset), "signature")
        defer { git_signature_free(sig) }
        var out = git_oid()
        let rc = git_stash_save(&out, repo, sig, message, GIT_STASH_DEFAULT.rawValue)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check(rc, "stash")
        return GitOID(out)
    }

    /// Writes a commit's files into another directory, leaving the working tree, index and
    /// HEAD alone (`git_checkout_tree` with `target_directory`).
    public func export(_ commit: GitOID, to dir: String) throws {
        var obj: OpaquePointer?
        var oid = commit.raw
        try check(git_object_lookup(&obj, repo, &oid, GIT_OBJECT_COMMIT), "read \(commit.short)")
        defer { git_object_free(obj) }
        var opts = git_checkout_options()
        try check(git_checkout_options_init(&opts, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "checkout")
        opts.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue | GIT_CHECKOUT_DONT_UPDATE_INDEX.rawValue
        try dir.withCString { d in
            opts.target_directory = d
            try check(git_checkout_tree(repo, obj, &opts), "export \(commit.short) to \(dir)")
        }
    }

    /// Files staged against HEAD (added or changed) whose blob is larger than `limit` bytes,
    /// for the warning about big files committed to git itself (`git_diff_tree_to_index`;
    /// sizes read from the object headers, the blobs themselves are not loaded).
    public func stagedBlobs(largerThan limit: UInt64) throws -> [(path: String, size: UInt64)] {
        let index = try openIndex()
        defer { git_index_free(index) }
        func diffAgainst(_ tree: OpaquePointer?) throws -> [(path: String, size: UInt64)] {
            var diff: OpaquePointer?
            try check(git_diff_tree_to_index(&diff, repo, tree, index, nil), "compare HEAD with the index")
            defer { git_diff_free(diff) }
            var odb: OpaquePointer?
            try check(git_repository_odb(&odb, repo), "open object database")
            defer { git_odb_free(odb) }
            var out: [(String, UInt64)] = []
            for i in 0..<git_diff_num_deltas(diff) {
                guard let d = git_diff_get_delta(diff, i)?.pointee, let p = d.new_file.path else { continue }
                guard [GIT_DELTA_ADDED, GIT_DELTA_MODIFIED, GIT_DELTA_RENAMED, GIT_DELTA_COPIED, GIT_DELTA_TYPECHANGE].contains(d.status),
                      d.new_file.mode == UInt16(GIT_FILEMODE_BLOB.rawValue) || d.new_file.mode == UInt16(GIT_FILEMODE_BLOB_EXECUTABLE.rawValue) else { continue }
                var oid = d.new_file.id
                var length = 0
                var type = GIT_OBJECT_ANY
                guard git_odb_read_header(&length, &type, odb, &oid) == 0, type == GIT_OBJECT_BLOB else { continue }
                if UInt64(length) > limit { out.append((String(cString: p), UInt64(length))) }
            }
            return out
        }
        guard let h = try head() else { return try diffAgainst(nil) }
        return try withTree(of: h) { try diffAgainst($0) }
    }

    /// The commits gc must keep, split by why: `fromRefs` are reachable from HEAD and every
    /// reference except the stash; `onlyFromLogs` only from a stash entry or a reflog entry
    /// (old or new side, as git's own gc counts them), each with the refs whose logs reach
    /// it (`refs/stash` for stash entries), so gc can say what holds them and how to let go.
    public func reachableCommitsBySource() throws -> (fromRefs: [GitOID], onlyFromLogs: [(commit: GitOID, via: [String])]) {
        final class Names { var names: [String] = [] }
        let names = Names()
        let ncb: git_reference_foreach_name_cb = { name, payload in
            Unmanaged<Names>.fromOpaque(payload!).takeUnretainedValue().names.append(String(cString: name!))
            return 0
        }
        _ = git_reference_foreach_name(repo, ncb, Unmanaged.passUnretained(names).toOpaque())
        let refs = names.names.filter { $0 != "refs/stash" }
        let hasHead = try head() != nil
        func commitExists(_ id: git_oid) -> Bool {
            var oid = id
            var obj: OpaquePointer?
            guard git_object_lookup(&obj, repo, &oid, GIT_OBJECT_COMMIT) == 0 else { return false }
            git_object_free(obj)
            return true
        }
        func walk(push: [git_oid], pushRefs: Bool, hideRefs: Bool) throws -> [GitOID] {
            var w: OpaquePointer?
            try check(git_revwalk_new(&w, repo), "walk")
            defer { git_revwalk_free(w) }
            // A ref to something that is not a commit (a tag of a tree) is not history: skipped.
            if pushRefs {
                for r in refs { _ = git_revwalk_push_ref(w, r) }
                if hasHead { _ = git_revwalk_push_head(w) }
            }
            if hideRefs {
                for r in refs { _ = git_revwalk_hide_ref(w, r) }
                if hasHead { _ = git_revwalk_hide_head(w) }
            }
            for var id in push { try check(git_revwalk_push(w, &id), "walk stash and reflogs") }
            var out: [GitOID] = []
            var oid = git_oid()
            while git_revwalk_next(&oid, w) == 0 { out.append(GitOID(oid)) }
            return out
        }
        let fromRefs = try walk(push: [], pushRefs: true, hideRefs: false)
        // What each log still reaches: stash entries, then every reflog (HEAD's included).
        var sources: [(String, [git_oid])] = []
        final class Box { var ids: [git_oid] = [] }
        let box = Box()
        let cb: git_stash_cb = { _, _, oid, payload in
            Unmanaged<Box>.fromOpaque(payload!).takeUnretainedValue().ids.append(oid!.pointee)
            return 0
        }
        _ = git_stash_foreach(repo, cb, Unmanaged.passUnretained(box).toOpaque())
        // The stash ref itself: its reflog (the entries above) may have been expired while
        // the ref still holds the latest entry.
        var top = git_oid()
        if git_reference_name_to_id(&top, repo, "refs/stash") == 0, commitExists(top) { box.ids.append(top) }
        sources.append(("refs/stash", box.ids))
        for name in ["HEAD"] + names.names where name != "refs/stash" {
            var log: OpaquePointer?
            guard git_reflog_read(&log, repo, name) == 0 else { continue }
            defer { git_reflog_free(log) }
            var ids: [git_oid] = []
            for i in 0..<git_reflog_entrycount(log) {
                guard let e = git_reflog_entry_byindex(log, i) else { continue }
                // Only ids that still name a commit (a reflog may point at pruned objects).
                for side in [git_reflog_entry_id_old(e), git_reflog_entry_id_new(e)] {
                    if let ptr = side, git_oid_is_zero(ptr) == 0, commitExists(ptr.pointee) { ids.append(ptr.pointee) }
                }
            }
            sources.append((name, ids))
        }
        var via: [GitOID: [String]] = [:]
        var order: [GitOID] = []
        for (name, ids) in sources where !ids.isEmpty {
            for c in try walk(push: ids, pushRefs: false, hideRefs: true) {
                if via[c] == nil { order.append(c) }
                via[c, default: []].append(name)
            }
        }
        return (fromRefs, order.map { ($0, via[$0]!) })
    }

    /// Sets a value in the repository's own config (`.git/config`).
    public func setConfig(_ key: String, _ value: String) throws {
        var cfg: OpaquePointer?
        try check(git_repository_config(&cfg, repo), "open config")
        defer { git_config_free(cfg) }
        var local: OpaquePointer?
        try check(git_config_open_level(&local, cfg, GIT_CONFIG_LEVEL_LOCAL), "open .git/config")
        defer { git_config_free(local) }
        try check(git_config_set_string(local, key, value), "set \(key)")
    }

    public func config(_ key: String) throws -> String? {
        var cfg: OpaquePointer?
        try check(git_repository_config_snapshot(&cfg, repo), "read config")
        defer { git_config_free(cfg) }
        var v: UnsafePointer<CChar>?
        return git_config_get_string(&v, cfg, key) == 0 ? v.map { String(cString: $0) } : nil
    }

    /// git's index (`git_repository_index`); the caller frees it with `git_index_free`.
    private func openIndex() throws -> OpaquePointer {
        var index: OpaquePointer?
        try check(git_repository_index(&index, repo), "open index")
        return index!
    }

    /// Paths in git's index whose name ends with `suffix` (`git_index_get_byindex`), each
    /// once: during a merge conflict a path has up to three entries (base, ours, theirs).
    /// With `regularFilesOnly`, symlinks and submodules (gitlinks) are left out.
    public func indexPaths(endingWith suffix: String, regularFilesOnly: Bool = false) throws -> [String] {
        let index = try openIndex()
        defer { git_index_free(index) }
        var out: [String] = []
        for i in 0..<git_index_entrycount(index) {
            guard let e = git_index_get_byindex(index, i), let p = e.pointee.path else { continue }
            if regularFilesOnly && e.pointee.mode & 0o170000 != 0o100000 { continue }
            let path = String(cString: p)
            if path.hasSuffix(suffix) && out.last != path { out.append(path) }
        }
        return out
    }

    /// Paths with an unresolved merge conflict (index entries at stage 1–3,
    /// `git_index_entry_is_conflict`), each once.
    public func conflictedPaths() throws -> [String] {
        let index = try openIndex()
        defer { git_index_free(index) }
        guard git_index_has_conflicts(index) != 0 else { return [] }
        var out: [String] = []
        for i in 0..<git_index_entrycount(index) {
            guard let e = git_index_get_byindex(index, i), git_index_entry_is_conflict(e) != 0, let p = e.pointee.path else { continue }
            let path = String(cString: p)
            if out.last != path { out.append(path) }
        }
        return out
    }

    /// Index paths equal to `dir` or below it (`git_index_find_prefix`): the index is sorted,
    /// so this reads only the matching run of entries.
    public func indexPaths(under dir: String) throws -> [String] {
        let index = try openIndex()
        defer { git_index_free(index) }
        var pos = 0
        guard git_index_find_prefix(&pos, index, dir) == 0 else { return [] }
        var out: [String] = []
        let count = git_index_entrycount(index)
        while pos < count, let e = git_index_get_byindex(index, pos), let p = e.pointee.path {
            let path = String(cString: p)
            guard path.hasPrefix(dir) else { break }
            if path == dir || path.hasPrefix(dir + "/") { out.append(path) }
            pos += 1
        }
        return out
    }

    /// Stages files from the working tree and removes others from the index, like `git add`
    /// and `git rm --cached` (`git_index_add_bypath`, `git_index_remove_bypath`, `git_index_write`).
    public func stage(add: [String], remove: [String] = []) throws {
        let index = try openIndex()
        defer { git_index_free(index) }
        for p in add { try check(git_index_add_bypath(index, p), "stage \(p)") }
        for p in remove {
            let rc = git_index_remove_bypath(index, p)
            if rc != GIT_ENOTFOUND.rawValue { try check(rc, "unstage \(p)") }
        }
        try check(git_index_write(index), "write index")
    }

    /// True when committing the index now would record no change against HEAD.
    public func indexMatchesHead() throws -> Bool {
        let index = try openIndex()
        defer { git_index_free(index) }
        var treeID = git_oid()
        try check(git_index_write_tree(&treeID, index), "write tree")
        guard let h = try head() else { return false }
        var c: OpaquePointer?
        var oid = h.raw
        try check(git_commit_lookup(&c, repo, &oid), "read HEAD")
        defer { git_commit_free(c) }
        return git_oid_equal(&treeID, git_commit_tree_id(c)) != 0
    }

    /// True when git ignores `path` (relative to the working tree) (`git_ignore_path_is_ignored`).
    public func isIgnored(_ path: String) throws -> Bool {
        var ignored: Int32 = 0
        try check(git_ignore_path_is_ignored(&ignored, repo, path), "check ignore of \(path)")
        return ignored != 0
    }

    /// True when the file is in git's index (tracked by git itself).
    public func isInIndex(_ path: String) throws -> Bool {
        let index = try openIndex()
        defer { git_index_free(index) }
        return git_index_get_bypath(index, path, 0) != nil
    }
}

/// Parses the date forms tests and scripts use for GIT_AUTHOR_DATE: "@<epoch> [+hhmm]" or "<epoch> [+hhmm]".
func parseGitDate(_ s: String) -> (Int64, Int32)? {
    let parts = s.split(separator: " ")
    guard let first = parts.first, let t = Int64(first.hasPrefix("@") ? first.dropFirst() : first) else { return nil }
    var offset: Int32 = 0
    if parts.count > 1, let tz = Int32(parts[1]) { offset = (tz / 100) * 60 + (tz % 100) }
    return (t, offset)
}

/// Read-only view of the process environment.
struct ProcessEnv {
    subscript(_ key: String) -> String? {
        getenv(key).map { String(cString: $0) }
    }
}

extension GitError: CategorizedError {
    public var category: ErrorCategory { isSystemFailure ? .system : .input }
}
