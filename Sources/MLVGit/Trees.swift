// Commit ids, and what a commit holds: its tree, the blob at a path, the paths below it, and
// the paths that differ between two commits.
import MLVSystem
import CGit2
import Glibc

/// A commit id (SHA-1, 20 bytes).
public struct GitOID: Hashable, Sendable, CustomStringConvertible {
    public let raw: git_oid

    init(_ raw: git_oid) { self.raw = raw }

    /// 40 hex digits (`git_oid_fmt`).
    public var hex: String {
        var r = raw
        var buf = [UInt8](repeating: 0, count: 40)
        buf.withUnsafeMutableBytes { _ = git_oid_fmt($0.baseAddress!.assumingMemoryBound(to: CChar.self), &r) }
        return String(decoding: buf, as: UTF8.self)
    }

    public var short: String { String(hex.prefix(10)) }
    public var description: String { hex }

    /// `git_oid_equal`.
    public static func == (a: GitOID, b: GitOID) -> Bool {
        var x = a.raw, y = b.raw
        return git_oid_equal(&x, &y) != 0
    }

    public func hash(into h: inout Hasher) {
        withUnsafeBytes(of: raw.id) { h.combine(bytes: $0) }
    }
}

extension GitRepository {
    /// Runs `body` on a commit's tree (`git_commit_lookup`, `git_commit_tree`).
    func withTree<T>(of commit: GitOID, _ body: (OpaquePointer) throws -> T) throws -> T {
        var c: OpaquePointer?
        var oid = commit.raw
        try check(git_commit_lookup(&c, repo, &oid), "read commit \(commit.short)")
        defer { git_commit_free(c) }
        var tree: OpaquePointer?
        try check(git_commit_tree(&tree, c), "read tree of \(commit.short)")
        defer { git_tree_free(tree) }
        return try body(tree!)
    }

    /// Runs `body` on the tree entry at `path` in a commit; nil when there is none
    /// (`git_tree_entry_bypath`).
    func withEntry<T>(_ path: String, in commit: GitOID, _ body: (OpaquePointer?) throws -> T?) throws -> T? {
        try withTree(of: commit) { tree in
            var entry: OpaquePointer?
            let rc = git_tree_entry_bypath(&entry, tree, path)
            if rc == GIT_ENOTFOUND.rawValue { return nil }
            try check(rc, "find \(path)")
            defer { git_tree_entry_free(entry) }
            return try body(entry)
        }
    }

    /// Whether a commit has a file (a blob) at `path`, without reading it (`git_tree_entry_type`).
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

    /// The id of the entry at `path` in a tree, nil when there is none (`git_tree_entry_bypath`).
    func treeEntryID(_ tree: OpaquePointer, _ path: String) -> git_oid? {
        var entry: OpaquePointer?
        guard git_tree_entry_bypath(&entry, tree, path) == 0 else { return nil }
        defer { git_tree_entry_free(entry) }
        return git_tree_entry_id(entry).pointee
    }

    /// Paths whose content differs between two commits (all of `to`'s when `from` is nil)
    /// (`git_diff_tree_to_tree`).
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
}
