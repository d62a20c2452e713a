import Foundation
import Testing

/// `mlv -C PATH COMMAND`, as `git -C`: the folder comes before the command too.
@Suite struct GlobalOptionTests {
    @Test func dashCBeforeTheCommandRunsThere() throws {
        let s = try Sandbox()
        try s.write("d.csv", "a\n1\n")
        try s.mlvOK("track", "d.csv")
        // From the sandbox's root, outside the repository: the global form and the per-command
        // form see the same repository.
        let global = try s.mlv("-C", "repo", "status", "--json", cwd: s.root)
        #expect(global.status == 0, "\(global.stderr)")
        let local = try s.mlv("status", "-C", "repo", "--json", cwd: s.root)
        // The same targets in the same states (the counts of files read differ: the stat cache).
        func targets(_ r: RunResult) throws -> [String] {
            (try json(r)["targets"] as? [[String: Any]] ?? []).map { "\($0["path"] ?? "") \($0["state"] ?? "")" }
        }
        #expect(try targets(global) == targets(local) && targets(global) == ["d.csv added"], "\(global.stdout)")
        // Without -C the sandbox's root is no repository.
        #expect(try s.mlv("status", cwd: s.root).status == 2)
        // Repeated, each relative to the one before (git's rule).
        try FileManager.default.createDirectory(atPath: s.root + "/repo/sub", withIntermediateDirectories: true)
        let nested = try s.mlv("-C", "repo", "-C", "sub", "status", "--json", cwd: s.root)
        #expect(nested.status == 0 && nested.stdout.contains("d.csv"), "\(nested.stderr)")
    }

    @Test func aDashCFolderThatDoesNotExistIsOneLine() throws {
        let s = try Sandbox()
        let r = try s.mlv("-C", "nowhere", "status", cwd: s.root)
        #expect(r.status == 2)
        #expect(r.stderr == "mlv: error: -C nowhere: no such folder (or not one mlv may enter); give the folder to run in\n", "\(r.stderr)")
    }
}
