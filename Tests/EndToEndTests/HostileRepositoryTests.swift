import Foundation
import Testing

/// Repositories crafted by someone else (issue 16): whatever a clone's commits, pointers and
/// mlv.yaml say, mlv never reads, writes or removes anything outside the working tree.
/// Each test builds the hostile repository with plain git, then runs the real binary.
@Suite struct HostileRepositoryTests {
    /// A folder next to the repository holding a file that must survive.
    static func bystander(_ sb: Sandbox, _ name: String = "victim") throws -> String {
        let dir = sb.root + "/" + name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: dir + "/keep.txt"))
        return dir
    }

    @Test func trackedStoreLinkIsRefusedAndGCDeletesNothingOutside() throws {
        // Another project with its own store and only pack.
        let other = try Sandbox.committing("data.csv", Array(csv(rows: 2000).utf8))
        let otherPacks = try FileManager.default.subpathsOfDirectory(atPath: other.repo + "/.mlv/store/packs").filter { $0.hasSuffix(".pack") }
        #expect(!otherPacks.isEmpty)

        // The hostile repository tracks `.mlv/store` as a symlink to it, and `.mlv/lock` to a file.
        let sb = try Sandbox(initMLV: false)
        let victim = try Self.bystander(sb)
        try sb.write("mlv.yaml", "version: 1\n")
        try FileManager.default.createDirectory(atPath: sb.repo + "/.mlv", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: sb.repo + "/.mlv/store", withDestinationPath: other.repo + "/.mlv/store")
        try FileManager.default.createSymbolicLink(atPath: sb.repo + "/.mlv/lock", withDestinationPath: victim + "/keep.txt")
        try sb.git("add", "-f", "mlv.yaml", ".mlv/store", ".mlv/lock")
        try sb.git("commit", "-qm", "hostile")

        for args in [["gc"], ["pull"], ["status"], ["checkout"], ["fsck"]] {
            let r = try sb.run(mlvBinary, args)
            #expect(r.status == 2, "mlv \(args[0]) should refuse: \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(".mlv/lock is tracked by git") || r.stderr.contains(".mlv/store is tracked by git"), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
        }
        let after = try FileManager.default.subpathsOfDirectory(atPath: other.repo + "/.mlv/store/packs").filter { $0.hasSuffix(".pack") }
        #expect(after == otherPacks)
        #expect(FileManager.default.contents(atPath: victim + "/keep.txt") == Data("precious\n".utf8))

        // Untracked from git but still a link on disk: refused as well.
        try sb.git("rm", "-q", "--cached", ".mlv/store", ".mlv/lock")
        let r = try sb.run(mlvBinary, ["gc"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("is a symlink"), "\(r.stderr)")
        #expect(FileManager.default.contents(atPath: victim + "/keep.txt") == Data("precious\n".utf8))
        #expect(try FileManager.default.subpathsOfDirectory(atPath: other.repo + "/.mlv/store/packs").filter { $0.hasSuffix(".pack") } == otherPacks)
    }

    @Test func linksInsideAnIsolatedRunsWorkFolderAreNotForeign() throws {
        // `.mlv/work/` holds isolated runs' exported commits, links and all; one left by a
        // killed `mlv run --rev` must not stop every later command.
        let sb = try Sandbox.committing("data.csv", Array(csv(rows: 5).utf8))
        try FileManager.default.createDirectory(atPath: sb.repo + "/.mlv/work/train-1-2/code", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: sb.repo + "/.mlv/work/train-1-2/code/link", withDestinationPath: "/")
        try sb.mlvOK("status")
        // The work folder itself as a link is still refused.
        try FileManager.default.removeItem(atPath: sb.repo + "/.mlv/work")
        try FileManager.default.createSymbolicLink(atPath: sb.repo + "/.mlv/work", withDestinationPath: sb.root)
        let r = try sb.mlv("status")
        #expect(r.status == 2 && r.stderr.contains(".mlv/work is a symlink"), "\(r.stderr)")
    }

    @Test func checkoutNeverRemovesThroughAParentTurnedSymlink() throws {
        // The repro of issue 16 #2: the next commit turns the target's parent `d` into `d -> ..`.
        let sb = try Sandbox()
        let sibling = sb.root + "/sib"       // what `d/sib` means once `d` is `..`
        try FileManager.default.createDirectory(atPath: sibling, withIntermediateDirectories: true)
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: sibling + "/keep.txt"))
        try sb.write("d/sib/y", "x\n")
        try sb.mlvOK("track", "d/sib")
        try sb.mlvOK("commit", "-m", "c1")
        try sb.git("rm", "-q", "d/sib.mlv")
        try FileManager.default.removeItem(atPath: sb.repo + "/d")
        try FileManager.default.createSymbolicLink(atPath: sb.repo + "/d", withDestinationPath: "..")
        try sb.git("add", "d")
        try sb.git("commit", "-qm", "c2")
        try sb.git("checkout", "-q", "HEAD~1")
        try sb.mlvOK("checkout")
        #expect(sb.read("d/sib/y") == Array("x\n".utf8))
        let r = try sb.mlv("checkout", "main")
        #expect(FileManager.default.contents(atPath: sibling + "/keep.txt") == Data("precious\n".utf8), "sibling folder of the repository was touched: \(r.stderr)")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("not removed"), "\(r.stderr)")
        // The same with an absolute link.
        try sb.git("checkout", "-q", "HEAD~1")
        try sb.mlvOK("checkout")
        try sb.git("rm", "-q", "d/sib.mlv")
        try FileManager.default.removeItem(atPath: sb.repo + "/d")
        try FileManager.default.createSymbolicLink(atPath: sb.repo + "/d", withDestinationPath: sb.root)
        try sb.git("add", "d")
        try sb.git("commit", "-qm", "c3")
        try sb.git("checkout", "-q", "HEAD~1")
        try sb.mlvOK("checkout")
        _ = try sb.mlv("checkout", "HEAD@{1}")
        #expect(FileManager.default.contents(atPath: sibling + "/keep.txt") == Data("precious\n".utf8))
    }

    @Test func targetBelowALinkInsideAFolderTargetIsRefused() throws {
        // A folder target whose content holds `s -> /outside`, and a later pointer `d/s/x.mlv`,
        // arriving through a plain git checkout with the hooks installed (issue 16 #3).
        let sb = try Sandbox()
        let outside = try Self.bystander(sb, "outside")
        try FileManager.default.createDirectory(atPath: outside + "/x", withIntermediateDirectories: true)
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: outside + "/x/keep.txt"))
        try sb.write("d/a.txt", "a\n")
        try FileManager.default.createSymbolicLink(atPath: sb.repo + "/d/s", withDestinationPath: outside)
        try sb.mlvOK("track", "d")
        try sb.mlvOK("commit", "-m", "folder with a link")
        // The attacker's next commit adds a pointer below the link, naming a folder snapshot.
        try sb.write("e/x/f.txt", "f\n")
        try sb.mlvOK("track", "e/x")
        try sb.mlvOK("commit", "-m", "helper target")
        let pointer = sb.read("e/x.mlv")!
        try sb.mlvOK("untrack", "e/x")
        try sb.mlvOK("commit", "-m", "drop helper")
        try sb.git("checkout", "-q", "-b", "attack")
        try FileManager.default.removeItem(atPath: sb.repo + "/d/s")
        try FileManager.default.createDirectory(atPath: sb.repo + "/d/s", withIntermediateDirectories: true)
        try Data(pointer).write(to: URL(fileURLWithPath: sb.repo + "/d/s/x.mlv"))
        try sb.git("add", "-f", "d/s/x.mlv")
        try sb.git("commit", "-qm", "pointer below the link")
        try sb.git("checkout", "-q", "main")
        try sb.mlvOK("checkout")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: sb.repo + "/d/s") == outside)

        try sb.mlvOK("hooks", "install")
        _ = try sb.run("/usr/bin/git", ["checkout", "-q", "attack"])
        let r = try sb.mlv("checkout")
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("overlaps the tracked target d"), "\(r.stderr)")
        #expect(FileManager.default.contents(atPath: outside + "/x/keep.txt") == Data("precious\n".utf8))
        #expect(FileManager.default.contents(atPath: outside + "/keep.txt") == Data("precious\n".utf8))
        // checkout REV refuses too, before anything moves.
        let r2 = try sb.mlv("checkout", "--force", "main")
        #expect(FileManager.default.contents(atPath: outside + "/x/keep.txt") == Data("precious\n".utf8))
        _ = r2
    }

    @Test func configPathsOutsideTheRepositoryAreRefused() throws {
        let sb = try Sandbox()
        let outside = try Self.bystander(sb, "outside")
        try Data("aws_secret_access_key: hunter2\n".utf8).write(to: URL(fileURLWithPath: outside + "/creds.yaml"))
        try sb.write("metrics.json", "{\"acc\": 0.5}\n")
        try sb.mlvOK("track", "--kind", "metrics", "metrics.json")
        try sb.mlvOK("commit", "-m", "m")
        // A committed mlv.yaml naming a file outside, by `..` and by a link.
        for (name, entry) in [("dotdot", "../outside/creds.yaml"), ("absolute", outside + "/creds.yaml")] {
            var yaml = String(decoding: sb.read("mlv.yaml")!, as: UTF8.self)
            yaml = yaml.replacingOccurrences(of: "- metrics.json", with: "- metrics.json\n- \(entry)")
            try sb.write("mlv.yaml", yaml)
            for args in [["metrics", "show"], ["diff"], ["params", "diff"], ["status"]] {
                let r = try sb.run(mlvBinary, args)
                #expect(!r.stdout.contains("hunter2") && !r.stderr.contains("hunter2"), "\(name) \(args): leaked")
                #expect(r.status == 2, "\(name) mlv \(args.joined(separator: " ")): \(r.status) \(r.stderr)")
            }
            try sb.git("checkout", "--", "mlv.yaml")
        }
        // A metrics file that is a link leading outside.
        try FileManager.default.removeItem(atPath: sb.repo + "/metrics.json")
        try FileManager.default.createSymbolicLink(atPath: sb.repo + "/metrics.json", withDestinationPath: outside + "/creds.yaml")
        for args in [["metrics", "show"], ["diff"]] {
            let r = try sb.run(mlvBinary, args)
            #expect(!r.stdout.contains("hunter2") && !r.stderr.contains("hunter2"), "link \(args): leaked")
            #expect(r.status == 2, "link mlv \(args.joined(separator: " ")): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("outside the working tree"), "\(r.stderr)")
        }
        // A link inside the repository is fine.
        try FileManager.default.removeItem(atPath: sb.repo + "/metrics.json")
        try sb.write("reports/m.json", "{\"acc\": 0.75}\n")
        try FileManager.default.createSymbolicLink(atPath: sb.repo + "/metrics.json", withDestinationPath: "reports/m.json")
        let ok = try sb.mlvOK("metrics", "show")
        #expect(ok.stdout.contains("0.75"), "\(ok.stdout)")
    }

    @Test func committedLinksNeverBringOutsideFilesIn() throws {
        let sb = try Sandbox()
        let outside = try Self.bystander(sb, "outside")
        try Data("SECRET-TOKEN\n".utf8).write(to: URL(fileURLWithPath: outside + "/secret"))
        try FileManager.default.createDirectory(atPath: outside + "/data", withIntermediateDirectories: true)
        try Data("id\n1\n".utf8).write(to: URL(fileURLWithPath: outside + "/data/x.csv"))
        // A .gitignore that is a link: mlv rewrites .gitignore when tracking, and must not
        // copy the link's target into the repository.
        try FileManager.default.removeItem(atPath: sb.repo + "/.gitignore")
        try FileManager.default.createSymbolicLink(atPath: sb.repo + "/.gitignore", withDestinationPath: outside + "/secret")
        try sb.write("data.csv", csv(rows: 5))
        let r = try sb.mlv("track", "data.csv")
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains(".gitignore") && r.stderr.contains("outside the working tree"), "\(r.stderr)")
        let all = try FileManager.default.subpathsOfDirectory(atPath: sb.repo).filter { !$0.hasPrefix(".git/") }
        for f in all where !(sb.exists(f) && (try? FileManager.default.destinationOfSymbolicLink(atPath: sb.repo + "/" + f)) != nil) {
            #expect(!(sb.read(f).map { String(decoding: $0, as: UTF8.self) } ?? "").contains("SECRET-TOKEN"), "\(f) holds the outside file's content")
        }
        // A target reached through a linked folder is not snapshotted.
        try FileManager.default.removeItem(atPath: sb.repo + "/.gitignore")
        try FileManager.default.createSymbolicLink(atPath: sb.repo + "/d", withDestinationPath: outside)
        let t = try sb.mlv("track", "d/data")
        #expect(t.status == 2, "\(t.stderr)")
        #expect(t.stderr.contains("d is a symlink"), "\(t.stderr)")
        #expect(!sb.exists("d/data.mlv"))
        #expect(!FileManager.default.fileExists(atPath: outside + "/data.mlv"))
    }

    @Test func stagePathsOutsideTheRepositoryAreRefused() throws {
        let sb = try Sandbox()
        let outside = try Self.bystander(sb, "outside")
        try sb.write("mlv.yaml", """
            version: 1
            stages:
              s:
                cmd: "true"
                deps: []
                outs: [../outside]

            """)
        let r = try sb.mlv("repro")
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("mlv.yaml"), "\(r.stderr)")
        #expect(FileManager.default.contents(atPath: outside + "/keep.txt") == Data("precious\n".utf8))
    }
}

/// One committed file ending in `.mlv` that is not a pointer, anywhere in the history, must
/// not stop gc and fsck for good (issue 16, "lower"): reported, skipped, the rest goes on.
@Suite struct BadPointerInHistoryTests {
    @Test func gcAndFsckSkipAndReportIt() throws {
        let s = try Sandbox.committing("data.csv", Array(csv(rows: 100).utf8))
        try s.write("notes.mlv", "this is not a pointer\n")
        try s.git("add", "notes.mlv")
        try s.git("commit", "-qm", "a stray .mlv file")
        try s.git("rm", "-q", "notes.mlv")
        try s.git("commit", "-qm", "gone again")
        try s.write("data.csv", csv(rows: 120))
        try s.mlvOK("commit", "-m", "v2")
        let f = try s.mlv("fsck")
        #expect(f.status == 0, "\(f.stdout) \(f.stderr)")
        #expect(f.stderr.contains("skipped notes.mlv"), "\(f.stderr)")
        let g = try s.mlv("gc")
        #expect(g.status == 0, "\(g.stderr)")
        #expect(g.stderr.contains("skipped notes.mlv"), "\(g.stderr)")
        // Every committed version still reads back after the gc.
        #expect(try s.shown("HEAD~3:data.csv") == Array(csv(rows: 100).utf8))
        #expect(try s.shown("HEAD:data.csv") == Array(csv(rows: 120).utf8))
    }
}

/// Red-team finding F1: a folder target's snapshot holds a link (`d/s -> ../../victim`), an
/// older commit has git files below it (`d/s/config`); after the README's `mlv pull`, a
/// `mlv checkout HEAD~1` let git write (and later delete) through the link.
@Suite struct CheckoutThroughRestoredLinkTests {
    @Test func gitNeverWritesThroughALinkMlvRestored() throws {
        let sb = try Sandbox(initMLV: false)
        let victim = try HostileRepositoryTests.bystander(sb)
        let remote = sb.root + "/remote"
        try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)
        let att = sb.root + "/att"
        try FileManager.default.createDirectory(atPath: att, withIntermediateDirectories: true)
        try sb.git("init", "-q", "-b", "main", cwd: att)
        try sb.mlvOK("init", cwd: att)
        try sb.mlvOK("remote", "add", "origin", remote, cwd: att)
        try sb.write("d/s/keep.txt", Array("OVERWRITTEN\n".utf8), in: att)
        try sb.git("add", "-A", cwd: att)
        try sb.git("commit", "-qm", "old layout", cwd: att)
        try sb.git("rm", "-q", "-r", "--cached", "d", cwd: att)
        try FileManager.default.removeItem(atPath: att + "/d")
        try sb.write("d/a.txt", Array("a\n".utf8), in: att)
        try FileManager.default.createSymbolicLink(atPath: att + "/d/s", withDestinationPath: "../../victim")
        try sb.mlvOK("track", "d", cwd: att)
        try sb.git("add", "-A", cwd: att)
        try sb.mlvOK("commit", "-m", "data", cwd: att)
        try sb.mlvOK("push", cwd: att)
        try sb.git("clone", "-q", att, sb.root + "/clone", cwd: sb.root)
        let clone = sb.root + "/clone"
        try sb.mlvOK("pull", cwd: clone)
        let r = try sb.run(mlvBinary, ["checkout", "HEAD~1"], cwd: clone)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("d/s here is a symlink git does not track"), "\(r.stderr)")
        #expect(FileManager.default.contents(atPath: victim + "/keep.txt") == Data("precious\n".utf8))
        let head = try sb.run("/usr/bin/git", ["rev-parse", "HEAD"], cwd: clone).stdout
        let main = try sb.run("/usr/bin/git", ["rev-parse", "main"], cwd: clone).stdout
        #expect(head == main, "HEAD moved although the checkout was refused")
        // The documented way out: drop the link, then the checkout goes through (inside the tree).
        try FileManager.default.removeItem(atPath: clone + "/d/s")
        _ = try sb.run(mlvBinary, ["checkout", "--force", "HEAD~1"], cwd: clone)
        #expect(FileManager.default.contents(atPath: victim + "/keep.txt") == Data("precious\n".utf8))
    }
}

/// The check before a checkout (F1) must not stop ordinary history: a tracked file that
/// becomes a folder, and a tracked link that becomes a folder, are git's to replace.
@Suite struct CheckoutAcrossTypeChangesTests {
    @Test func aFileOrATrackedLinkBecomingAFolderChecksOut() throws {
        let s = try Sandbox.committing("data.csv", Array(csv(rows: 5).utf8))
        try s.write("code", "a file\n")
        try FileManager.default.createSymbolicLink(atPath: s.repo + "/ln", withDestinationPath: "code")
        try s.git("add", "code", "ln")
        try s.git("commit", "-qm", "file and link")
        try s.git("rm", "-q", "code", "ln")
        try s.write("code/main.py", "print(1)\n")
        try s.write("ln/x.txt", "x\n")
        try s.git("add", "code", "ln")
        try s.git("commit", "-qm", "folders now")
        try s.mlvOK("checkout", "HEAD~1")
        #expect(s.read("code") == Array("a file\n".utf8))
        try s.mlvOK("checkout", "main")
        #expect(s.read("code/main.py") == Array("print(1)\n".utf8) && s.read("ln/x.txt") == Array("x\n".utf8))
    }
}
