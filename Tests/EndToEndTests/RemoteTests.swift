import Foundation
import MLVTestSupport
import Testing

/// A repository with each of `commits` tracked and committed in turn (one commit, so one
/// pack, per entry), then `origin` added as a directory remote and committed in mlv.yaml.
func repositoryWithRemote(_ commits: [(path: String, bytes: [UInt8])]) throws -> Sandbox {
    let s = try Sandbox()
    for (path, bytes) in commits {
        try s.write(path, bytes)
        try s.mlvOK("track", path)
        try s.mlvOK("commit", "-m", "add \(path)")
    }
    try s.mlvOK("remote", "add", "origin", s.root + "/remote", "--create")
    try s.git("commit", "-q", "-m", "remote")
    return s
}

/// Directory remotes: push, a second clone that pulls, incremental pushes, corruption.
@Suite struct DirectoryRemoteTests {
    func pushed() throws -> Sandbox {
        let s = try Sandbox()
        try s.write("data/big.bin", noise(3 << 20, seed: 5))
        try s.write("data/t.csv", csv(rows: 1000))
        try s.mlvOK("track", "data")
        try s.mlvOK("commit", "-m", "v1")
        try s.mlvOK("remote", "add", "origin", s.root + "/remote", "--create")
        try s.git("commit", "-q", "-m", "remote")
        return s
    }

    @Test func pushTwiceSendsNothingTheSecondTimeAndACloneCanPull() throws {
        let s = try pushed()
        let first = try JSONSerialization.jsonObject(with: try s.mlvOK("push", "--json").stdoutBytes) as! [String: Any]
        #expect(first["packs"] as? Int == 1 && (first["bytes"] as! Int) > 3_000_000)
        let second = try JSONSerialization.jsonObject(with: try s.mlvOK("push", "--json").stdoutBytes) as! [String: Any]
        #expect(second["packs"] as? Int == 0 && second["bytes"] as? Int == 0)
        // A 1% change sends only the new data.
        var big = noise(3 << 20, seed: 5)
        big.replaceSubrange(1_000_000..<1_030_000, with: noise(30_000, seed: 6))
        try s.write("data/big.bin", big)
        try s.mlvOK("commit", "-m", "v2")
        let third = try JSONSerialization.jsonObject(with: try s.mlvOK("push", "--json").stdoutBytes) as! [String: Any]
        #expect((third["bytes"] as! Int) < 400_000, "sent \(third["bytes"]!) bytes for a 30 KB change")
        // A fresh clone needs nothing but `mlv pull`.
        let clone = s.root + "/clone"
        try s.git("clone", "-q", s.repo, clone, cwd: s.root)
        try s.mlvOK("pull", cwd: clone)
        #expect(s.read("data/big.bin", in: clone) == big)
        #expect(s.read("data/t.csv", in: clone) == Array(csv(rows: 1000).utf8))
        #expect(try s.mlvOK("status", cwd: clone).stdout.contains("clean"))
        // And an older commit's data comes on request.
        try s.mlvOK("fetch", "--rev", "HEAD~2", cwd: clone)
        try s.mlvOK("checkout", "HEAD~2", cwd: clone)
        #expect(s.read("data/big.bin", in: clone) == noise(3 << 20, seed: 5))
    }

    @Test func aCorruptedPackOnTheRemoteIsDetectedAndNothingReachesTheWorkingTree() throws {
        let s = try pushed()
        try s.mlvOK("push")
        let packs = try FileManager.default.subpathsOfDirectory(atPath: s.root + "/remote/packs").filter { $0.hasSuffix(".pack") }
        let path = s.root + "/remote/packs/" + packs[0]
        var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        bytes[bytes.count / 2] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let clone = s.root + "/clone"
        try s.git("clone", "-q", s.repo, clone, cwd: s.root)
        let r = try s.mlv("pull", cwd: clone)
        #expect(r.status == 4, "\(r.stderr)")
        #expect(r.stderr.contains("SHA-256") || r.stderr.contains("corrupt"))
        #expect(!FileManager.default.fileExists(atPath: clone + "/data/big.bin"))
        #expect(try FileManager.default.subpathsOfDirectory(atPath: clone + "/.mlv/store/packs").filter { $0.hasSuffix(".pack") }.isEmpty)
    }

    @Test func badRemotesAreClearErrors() throws {
        let s = try pushed()
        #expect(try s.mlv("push", "nope").status == 2)
        #expect(try s.mlv("push", "nope").stderr.contains("no remote \"nope\""))
        #expect(try s.mlv("remote", "add", "s3", "s3://Bad_Bucket/prefix").status == 2)
        #expect(try s.mlv("remote", "add", "web", "https://example.com/store").status == 2)
        #expect(try s.mlv("remote", "add", "dir", s.root + "/x", "--endpoint", "http://127.0.0.1:9").status == 2)
        // A folder that does not exist is refused (a typo, an unmounted share) unless --create.
        let typo = try s.mlv("remote", "add", "gone", s.root + "/does-not-exist")
        #expect(typo.status == 2 && typo.stderr.contains("--create"), "\(typo.stderr)")
        #expect(!FileManager.default.fileExists(atPath: s.root + "/does-not-exist"))
        try s.mlvOK("remote", "add", "gone", s.root + "/does-not-exist", "--create")
        try FileManager.default.removeItem(atPath: s.root + "/does-not-exist")
        let f = try s.mlv("fetch", "gone")
        #expect(f.status == 2 && f.stderr.contains("remote gone"))
        #expect(try s.mlvOK("remote", "list").stdout.contains("origin"))
        try s.mlvOK("remote", "remove", "gone")
        #expect(!(try s.mlvOK("remote", "list").stdout.contains("gone")))
    }
}

@Suite struct FsckTests {
    @Test func fsckIsCleanThenFindsAFlippedByteAndAMissingPack() throws {
        let s = try Sandbox()
        try s.write("data/a.bin", noise(200_000, seed: 1))
        try s.mlvOK("track", "data/a.bin")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/b.bin", noise(200_000, seed: 2))
        try s.mlvOK("track", "data/b.bin")
        try s.mlvOK("commit", "-m", "v2")
        let clean = try s.mlvOK("fsck")
        #expect(clean.stdout.contains("no problems"))
        let packs = try FileManager.default.subpathsOfDirectory(atPath: s.repo + "/.mlv/store/packs").filter { $0.hasSuffix(".pack") }.sorted()
        #expect(packs.count == 2)
        let first = s.repo + "/.mlv/store/packs/" + packs[0]
        var bytes = [UInt8](FileManager.default.contents(atPath: first)!)
        bytes[bytes.count - 10] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: first))
        try FileManager.default.removeItem(atPath: s.repo + "/.mlv/store/packs/" + packs[1])
        let bad = try s.mlv("fsck", "--json")
        #expect(bad.status == 4)
        let j = try JSONSerialization.jsonObject(with: bad.stdoutBytes) as! [String: Any]
        let problems = (j["problems"] as! [[String: Any]]).map { "\($0["what"]!): \($0["problem"]!)" }
        #expect(problems.contains { $0.hasPrefix("pack: ") && $0.contains("SHA-256") })
        #expect(problems.contains { $0 == "pack: indexed but missing" })
        #expect(problems.contains { $0.hasPrefix("pointer: ") })
    }
}

@Suite struct GCTests {
    @Test func gcKeepsWhatEveryBranchNeedsAndRemovesAnAbandonedCommitsData() throws {
        let s = try Sandbox()
        try s.write("data/a.bin", noise(300_000, seed: 1))
        try s.mlvOK("track", "data/a.bin")
        try s.mlvOK("commit", "-m", "v1")
        try s.git("checkout", "-q", "-b", "side")
        try s.write("data/a.bin", noise(300_000, seed: 2))
        try s.mlvOK("commit", "-m", "side data")
        try s.mlvOK("checkout", "main")
        try s.git("checkout", "-q", "-b", "doomed")
        try s.write("data/a.bin", noise(300_000, seed: 3))
        try s.mlvOK("commit", "-m", "abandoned")
        try s.mlvOK("checkout", "main")
        try s.git("branch", "-D", "doomed")
        try s.git("reflog", "expire", "--expire=now", "--all")
        let dry = try JSONSerialization.jsonObject(with: try s.mlvOK("gc", "--dry-run", "--json").stdoutBytes) as! [String: Any]
        #expect((dry["bytes_freed"] as! Int) > 250_000 && dry["packs_deleted"] as? Int == 1)
        let packsBefore = try FileManager.default.subpathsOfDirectory(atPath: s.repo + "/.mlv/store/packs").filter { $0.hasSuffix(".pack") }.count
        try s.mlvOK("gc")
        let packsAfter = try FileManager.default.subpathsOfDirectory(atPath: s.repo + "/.mlv/store/packs").filter { $0.hasSuffix(".pack") }.count
        #expect(packsAfter == packsBefore - 1)
        #expect(try s.mlvOK("fsck").stdout.contains("no problems"))
        try s.mlvOK("checkout", "side")
        #expect(s.read("data/a.bin") == noise(300_000, seed: 2))
        try s.mlvOK("checkout", "main")
        #expect(s.read("data/a.bin") == noise(300_000, seed: 1))
        // Nothing left to do the second time.
        let again = try JSONSerialization.jsonObject(with: try s.mlvOK("gc", "--json").stdoutBytes) as! [String: Any]
        #expect(again["bytes_freed"] as? Int == 0)
    }
}

@Suite struct GCRepackTests {
    @Test func aMostlyDeadPackIsRewrittenWithItsLiveObjectsOnly() throws {
        let s = try Sandbox()
        try s.write("base.txt", "base\n")
        try s.git("add", "base.txt")
        try s.git("commit", "-q", "-m", "base")
        try s.git("checkout", "-q", "-b", "x")
        try s.write("data/big.bin", noise(400_000, seed: 1))
        try s.write("data/small.bin", noise(20_000, seed: 2))
        try s.mlvOK("track", "data/big.bin", "data/small.bin")
        try s.mlvOK("commit", "-m", "both in one pack")
        // main adopts only the small file's pointer; the branch with the big one goes away.
        try s.mlvOK("checkout", "main")
        try s.git("checkout", "x", "--", "data/small.bin.mlv", ".gitignore", ".gitattributes", "mlv.yaml")
        try s.git("commit", "-q", "-m", "small only")
        try s.git("branch", "-D", "x")
        try s.git("reflog", "expire", "--expire=now", "--all")
        #expect(!s.exists("data/big.bin"))   // checkout main removed what main does not track
        try s.mlvOK("checkout")                // the pointer git brought: data follows
        #expect(s.read("data/small.bin") == noise(20_000, seed: 2))
        let r = try JSONSerialization.jsonObject(with: try s.mlvOK("gc", "--json").stdoutBytes) as! [String: Any]
        #expect(r["packs_repacked"] as? Int == 1)
        #expect((r["bytes_freed"] as! Int) > 390_000)
        #expect(try s.mlvOK("fsck").stdout.contains("no problems"))
        try FileManager.default.removeItem(atPath: s.repo + "/data/small.bin")
        try s.mlvOK("checkout")
        #expect(s.read("data/small.bin") == noise(20_000, seed: 2))
    }
}

@Suite struct ReviewRegressionTests {
    /// `git reset --hard HEAD@{1}` can bring back a commit only a reflog remembers: gc keeps its data.
    @Test func gcKeepsWhatAReflogStillReaches() throws {
        let s = try Sandbox()
        try s.write("data/a.bin", noise(200_000, seed: 1))
        try s.mlvOK("track", "data/a.bin")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/a.bin", noise(200_000, seed: 2))
        try s.mlvOK("commit", "-m", "v2")
        try s.git("reset", "-q", "--hard", "HEAD~1")
        try s.mlvOK("gc")
        try s.git("reset", "-q", "--hard", "HEAD@{1}")
        try s.mlvOK("checkout", "--force")
        #expect(s.read("data/a.bin") == noise(200_000, seed: 2))
    }

    /// A push that stopped after its packs but before its index is completed by the next push.
    @Test func aPushInterruptedBeforeItsIndexIsCompletedByTheNextOne() throws {
        let s = try repositoryWithRemote([("data/a.bin", noise(500_000, seed: 3))])
        try s.mlvOK("push")
        for n in try FileManager.default.contentsOfDirectory(atPath: s.root + "/remote/index") {
            try FileManager.default.removeItem(atPath: s.root + "/remote/index/" + n)
        }
        let again = try JSONSerialization.jsonObject(with: try s.mlvOK("push", "--json").stdoutBytes) as! [String: Any]
        #expect(again["packs"] as? Int == 0)                        // the pack was there already
        #expect((again["bytes"] as! Int) < 10_000)                  // only the index went
        let clone = s.root + "/clone"
        try s.git("clone", "-q", s.repo, clone, cwd: s.root)
        try s.mlvOK("pull", cwd: clone)
        #expect(s.read("data/a.bin", in: clone) == noise(500_000, seed: 3))
    }
}

@Suite struct PartialPullTests {
    @Test func pullOfOneTargetFetchesOnlyWhatItNeeds() throws {
        let s = try repositoryWithRemote([("data/a.bin", noise(400_000, seed: 1)), ("data/b.bin", noise(400_000, seed: 2))])
        try s.mlvOK("push")
        let clone = s.root + "/clone"
        try s.git("clone", "-q", s.repo, clone, cwd: s.root)
        let r = try s.mlvOK("pull", "--", "data/b.bin", cwd: clone)
        #expect(r.stdout.contains("fetched 1 pack"))
        #expect(s.read("data/b.bin", in: clone) == noise(400_000, seed: 2))
        #expect(s.read("data/a.bin", in: clone) == nil)
        #expect(try s.mlv("pull", "--", "data/nope.bin", cwd: clone).status == 2)
    }
}

@Suite struct InterruptedPushTests {
    /// A push killed at any moment leaves the remote consistent, and the next push finishes
    /// the job: a clone then pulls byte-identical data.
    @Test(arguments: [5, 40, 150])
    func aKilledPushResumes(afterMilliseconds delay: Int) throws {
        let data = noise(70 << 20, seed: 9)          // three packs
        let s = try repositoryWithRemote([("data/big.bin", data)])
        let p = try s.spawn(["push"])
        usleep(useconds_t(delay * 1000))
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        try s.mlvOK("push")
        let clone = s.root + "/clone"
        try s.git("clone", "-q", s.repo, clone, cwd: s.root)
        try s.mlvOK("pull", cwd: clone)
        #expect(s.read("data/big.bin", in: clone) == data)
        let again = try JSONSerialization.jsonObject(with: try s.mlvOK("push", "--json").stdoutBytes) as! [String: Any]
        #expect(again["bytes"] as? Int == 0)
    }
}

@Suite struct RemoteFsckTests {
    @Test func fsckOfARemoteFindsAFlippedByteAndPushClearsOldPartialFiles() throws {
        let s = try Sandbox()
        try s.write("data/a.bin", noise(300_000, seed: 4))
        try s.mlvOK("track", "data/a.bin")
        try s.mlvOK("commit", "-m", "a")
        try s.mlvOK("remote", "add", "origin", s.root + "/remote", "--create")
        try s.mlvOK("push")
        #expect(try s.mlvOK("fsck", "--remote", "origin").stdout.contains("no problems"))
        // Partial files (named as push names them): an old one is cleared by the next push,
        // a young one is left alone.
        let oldName = String(repeating: "a", count: 64) + ".pack.123.456", youngName = String(repeating: "b", count: 64) + ".pack.123.456"
        try s.write(oldName, [1, 2, 3], in: s.root + "/remote/tmp")
        try s.write(youngName, [1, 2, 3], in: s.root + "/remote/tmp")
        let old = Date().addingTimeInterval(-7200)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: s.root + "/remote/tmp/" + oldName)
        try s.mlvOK("push")
        #expect(!FileManager.default.fileExists(atPath: s.root + "/remote/tmp/" + oldName))
        #expect(FileManager.default.fileExists(atPath: s.root + "/remote/tmp/" + youngName))
        let pack = try FileManager.default.subpathsOfDirectory(atPath: s.root + "/remote/packs").first { $0.hasSuffix(".pack") }!
        let path = s.root + "/remote/packs/" + pack
        var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        bytes[bytes.count - 5] ^= 0x08
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let bad = try s.mlv("fsck", "--remote", "origin")
        #expect(bad.status == 4)
        #expect(bad.stdout.contains("SHA-256"))
    }
}
