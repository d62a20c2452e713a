// MLVGit — the only module that imports libgit2. A `GitRepository` owns a `git_repository*`;
// every libgit2 call goes through `check` (Errors.swift), which turns a negative return code
// into a `GitError` carrying libgit2's message, read right after the failing call (it is
// thread-local and overwritten by the next call). Each wrapper's doc comment names the C
// functions it calls. The files, one concept each:
//   Repository.swift  opening, discovering and creating a repository; HEAD, branches, config
//   Errors.swift      GitError, `check`, and how a failure is classified (input or system)
//   Trees.swift       commit ids, trees and blobs at a commit, paths changed between commits
//   Index.swift       git's index (stage, paths, conflicts) and status against HEAD
//   Checkout.swift    checkout of a commit's tree, export to a folder, stash
//   Commit.swift      signatures, commit creation, merge heads, commit info
//   History.swift     history walks, and what gc must keep (refs, stash, reflogs)
import MLVSystem
import CGit2
import Glibc

private let libgit2Ready: Bool = {
    git_libgit2_init()
    return true
}()

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

    /// Closes the repository (`git_repository_free`).
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

    /// HEAD's commit, or nil on a branch with no commits yet (`git_reference_name_to_id`).
    public func head() throws -> GitOID? {
        var oid = git_oid()
        let rc = git_reference_name_to_id(&oid, repo, "HEAD")
        if rc == GIT_ENOTFOUND.rawValue || rc == GIT_EUNBORNBRANCH.rawValue { return nil }
        try check(rc, "read HEAD")
        return GitOID(oid)
    }

    /// The branch HEAD points to (`main`), or nil when HEAD is detached (`git_reference_lookup`,
    /// `git_reference_symbolic_target`).
    public func currentBranch() -> String? {
        var ref: OpaquePointer?
        guard git_reference_lookup(&ref, repo, "HEAD") == 0 else { return nil }
        defer { git_reference_free(ref) }
        guard git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC, let t = git_reference_symbolic_target(ref) else { return nil }
        let target = String(cString: t)
        return target.hasPrefix("refs/heads/") ? String(target.dropFirst("refs/heads/".count)) : nil
    }

    /// True when `refs/heads/NAME` exists (`git_reference_lookup`).
    public func isLocalBranch(_ name: String) -> Bool {
        var ref: OpaquePointer?
        guard git_reference_lookup(&ref, repo, "refs/heads/" + name) == 0 else { return false }
        git_reference_free(ref)
        return true
    }

    /// Sets a value in the repository's own config, `.git/config` (`git_config_open_level`,
    /// `git_config_set_string`).
    public func setConfig(_ key: String, _ value: String) throws {
        var cfg: OpaquePointer?
        try check(git_repository_config(&cfg, repo), "open config")
        defer { git_config_free(cfg) }
        var local: OpaquePointer?
        try check(git_config_open_level(&local, cfg, GIT_CONFIG_LEVEL_LOCAL), "open .git/config")
        defer { git_config_free(local) }
        try check(git_config_set_string(local, key, value), "set \(key)")
    }

    /// A config value as git sees it (every level), nil when unset
    /// (`git_repository_config_snapshot`, `git_config_get_string`).
    public func config(_ key: String) throws -> String? {
        var cfg: OpaquePointer?
        try check(git_repository_config_snapshot(&cfg, repo), "read config")
        defer { git_config_free(cfg) }
        var v: UnsafePointer<CChar>?
        return git_config_get_string(&v, cfg, key) == 0 ? v.map { String(cString: $0) } : nil
    }

    /// True when git ignores `path` (relative to the working tree) (`git_ignore_path_is_ignored`).
    public func isIgnored(_ path: String) throws -> Bool {
        var ignored: Int32 = 0
        try check(git_ignore_path_is_ignored(&ignored, repo, path), "check ignore of \(path)")
        return ignored != 0
    }

    /// Whether the working-tree file at `path` (relative) exists (`access` with `F_OK`, which
    /// follows a symlink). A path that names nothing reachable (ENOENT, ENOTDIR, ELOOP,
    /// ENAMETOOLONG) does not; any other failure is the operating system's, thrown as `IOError`
    /// rather than taken for a missing file.
    func workingFileExists(_ path: String) throws -> Bool {
        let full = workdir + "/" + path
        if access(full, F_OK) == 0 { return true }
        let code = errno
        if [ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG].contains(code) { return false }
        throw IOError("access", full, code: code)
    }
}
