// git's index: opening it, its paths (by suffix, under a folder, in conflict), staging, and
// whether it matches HEAD; and status (files whose index or working copy differs from HEAD).
import MLVSystem
import CGit2
import Glibc


/// A file changed in git's view (code, configs, pointer files), for refusing to move HEAD
/// over uncommitted work.
public struct GitChange: Sendable, Equatable {
    public var path: String
    public var staged: Bool
}

extension GitRepository {
    /// git's index (`git_repository_index`); the caller frees it with `git_index_free`.
    func openIndex() throws -> OpaquePointer {
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

    /// True when committing the index now would record no change against HEAD
    /// (`git_index_write_tree`, compared with `git_commit_tree_id` of HEAD).
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

    /// True when the file is in git's index (tracked by git itself) (`git_index_get_bypath`).
    public func isInIndex(_ path: String) throws -> Bool {
        let index = try openIndex()
        defer { git_index_free(index) }
        return git_index_get_bypath(index, path, 0) != nil
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
    /// through for the same reason (`git_index_get_bypath`, `git_repository_hashfile`,
    /// `git_tree_entry_bypath`).
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
                if try workingFileExists(c.path) {
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
}
