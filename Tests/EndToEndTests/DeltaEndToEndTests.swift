import Foundation
import MLVTestSupport
import Testing

/// Store format 2 through the built binary: a history of a key-sorted CSV with rows
/// inserted throughout, stored as deltas; every version checked out byte for byte; push,
/// a clone reading HEAD; and a base pack lost in a copy of the store.
@Suite struct DeltaEndToEndTests {
    /// A key-sorted daily series: `keys` keys, `base + version` rows each, so every version
    /// inserts one row per key (rows inserted throughout the file). A row's values depend on
    /// its key and day only.
    static func series(version: Int, keys: Int = 150, base: Int = 40) -> [UInt8] {
        var s = "key,day,open,close,volume\n"
        for k in 0..<keys {
            for d in 0..<(base + version) {
                var x = UInt64(k) << 20 | UInt64(d)
                func next() -> UInt64 {
                    x &+= 0x9E37_79B9_7F4A_7C15
                    var z = x
                    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                    return z ^ (z >> 31)
                }
                let open = next() % 50_000, close = next() % 50_000
                s += "K\(k),\(d),\(open / 100).\(open % 100),\(close / 100).\(close % 100),\(next() % 10_000_000)\n"
            }
        }
        return Array(s.utf8)
    }

    /// Bytes of the files below `dir` (recursively) whose names end in one of `suffixes`.
    static func bytes(under dir: String, _ suffixes: [String] = [".pack", ".idx"]) -> Int {
        let fm = FileManager.default
        var total = 0
        for p in fm.subpaths(atPath: dir) ?? [] where suffixes.contains(where: { p.hasSuffix($0) }) {
            total += ((try? fm.attributesOfItem(atPath: dir + "/" + p)[.size]) as? Int) ?? 0
        }
        return total
    }

    static func packs(_ store: String) -> Set<String> {
        Set((FileManager.default.subpaths(atPath: store + "/packs") ?? []).filter { $0.hasSuffix(".pack") })
    }

    struct History {
        var sandbox: Sandbox
        var commits: [String]
        var versions: [[UInt8]]
        /// The packs version 1 wrote: the bases of version 2's deltas.
        var firstPacks: Set<String>
        var store: String { sandbox.repo + "/.mlv/store" }
    }

    /// Eight versions of series.csv, each committed; checks that each adds little.
    func history(sourceLocation: SourceLocation = #_sourceLocation) throws -> History {
        let s = try Sandbox()
        var commits: [String] = [], versions: [[UInt8]] = []
        var firstPacks = Set<String>()
        let store = s.repo + "/.mlv/store"
        var before = 0
        for v in 1...8 {
            let bytes = Self.series(version: v)
            try s.write("series.csv", bytes)
            if v == 1 { try s.mlvOK("track", "series.csv", sourceLocation: sourceLocation) }
            try s.mlvOK("commit", "-m", "v\(v)", sourceLocation: sourceLocation)
            commits.append(try s.head())
            versions.append(bytes)
            let size = Self.bytes(under: store)
            if v == 1 {
                firstPacks = Self.packs(store)
            } else {
                // Rows inserted throughout change every chunk; deltas keep the growth small.
                #expect(Double(size - before) < 0.10 * Double(bytes.count),
                        "version \(v) added \(size - before) bytes to the store for a \(bytes.count)-byte file", sourceLocation: sourceLocation)
            }
            before = size
        }
        return History(sandbox: s, commits: commits, versions: versions, firstPacks: firstPacks)
    }

    @Test func everyVersionChecksOutByteForByteAndFsckIsClean() throws {
        let h = try history()
        let s = h.sandbox
        // The store holds far less than the versions would with zstd alone (~40 % each).
        let total = h.versions.reduce(0) { $0 + $1.count }
        #expect(Double(Self.bytes(under: h.store)) < 0.12 * Double(total), "store \(Self.bytes(under: h.store)) bytes for \(total) bytes of versions")
        for (c, bytes) in zip(h.commits, h.versions).reversed() {
            try s.mlvOK("checkout", c)
            #expect(s.read("series.csv") == bytes, "checkout of \(c.prefix(12))")
            #expect(try s.shown("\(c):series.csv") == bytes)
        }
        try s.mlvOK("checkout", "main")
        #expect(s.read("series.csv") == h.versions.last)
        let fsck = try s.mlv("fsck")
        #expect(fsck.status == 0, "\(fsck.stdout)\(fsck.stderr)")
        #expect(fsck.stdout.contains("no problems"), "\(fsck.stdout)")
    }

    @Test func pushThenACloneReadsHeadAndTheRemoteIsAsSmall() throws {
        let h = try history()
        let s = h.sandbox
        try s.mlvOK("remote", "add", "origin", s.root + "/remote", "--create")
        try s.git("commit", "-q", "-m", "remote")
        try s.mlvOK("push", "--all-commits")
        let local = Self.bytes(under: h.store), remote = Self.bytes(under: s.root + "/remote")
        #expect(Double(remote) <= 1.2 * Double(local) && Double(remote) >= 0.8 * Double(local), "remote \(remote) bytes, local store \(local)")
        let remoteCheck = try s.mlv("fsck", "--remote", "origin")
        #expect(remoteCheck.status == 0, "\(remoteCheck.stdout)\(remoteCheck.stderr)")
        // A clone fetches what HEAD needs (its chunks and their bases) and reads it.
        let clone = s.root + "/clone"
        try s.git("clone", "-q", s.repo, clone, cwd: s.root)
        try s.mlvOK("pull", cwd: clone)
        #expect(s.read("series.csv", in: clone) == h.versions.last)
        let check = try s.mlv("fsck", cwd: clone)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(Self.bytes(under: clone + "/.mlv/store") <= Self.bytes(under: h.store) + 4096)
        // An older version on request.
        try s.mlvOK("fetch", "--rev", h.commits[1], cwd: clone)
        try s.mlvOK("checkout", h.commits[1], cwd: clone)
        #expect(s.read("series.csv", in: clone) == h.versions[1])
    }

    /// A push interrupted before its index (and before the pack of some bases): the remote's
    /// unindexed packs are nobody's data, not damage; once an index lists them, a missing
    /// base is. Checked from a clone that holds no data (so no base is found locally).
    @Test func remoteFsckJudgesMissingBasesOnlyInIndexedPacks() throws {
        let h = try history()
        let s = h.sandbox
        try s.mlvOK("remote", "add", "origin", s.root + "/remote", "--create")
        try s.git("commit", "-q", "-m", "remote")
        try s.mlvOK("push", "--all-commits")
        let clone = s.root + "/clone"
        try s.git("clone", "-q", s.repo, clone, cwd: s.root)
        let fm = FileManager.default
        let indexDir = s.root + "/remote/index", saved = s.root + "/saved-index"
        try fm.moveItem(atPath: indexDir, toPath: saved)
        try fm.createDirectory(atPath: indexDir, withIntermediateDirectories: true)
        for p in h.firstPacks { try fm.removeItem(atPath: s.root + "/remote/packs/" + p) }
        let unindexed = try s.mlv("fsck", "--remote", "origin", cwd: clone)
        #expect(unindexed.status == 0, "\(unindexed.stdout)\(unindexed.stderr)")
        for n in try fm.contentsOfDirectory(atPath: saved) { try fm.copyItem(atPath: saved + "/" + n, toPath: indexDir + "/" + n) }
        let indexed = try s.mlv("fsck", "--remote", "origin", cwd: clone)
        #expect(indexed.status == 4)
        #expect(indexed.stdout.contains("which no index of the remote lists") || indexed.stdout.contains("indexed but missing"), "\(indexed.stdout)")
    }

    @Test func aLostBasePackIsAnErrorNamingBothChunksAndNothingIsWritten() throws {
        let h = try history()
        let s = h.sandbox
        // Damage a copy of the repository, not the original (it is what restores the pack).
        let copy = s.root + "/copy"
        let cp = try s.run("/bin/cp", ["-a", s.repo, copy], cwd: s.root)
        #expect(cp.status == 0)
        let store = copy + "/.mlv/store"
        #expect(!h.firstPacks.isEmpty)
        for p in h.firstPacks { try FileManager.default.removeItem(atPath: store + "/packs/" + p) }

        // Checkout of version 2 (its chunks are deltas against version 1's): exit 4, one
        // line naming the delta and its base, and the working file untouched.
        var before = s.read("series.csv", in: copy)
        let r = try s.mlv("checkout", h.commits[1], cwd: copy)
        #expect(r.status == 4, "\(r.stderr)")
        let line = r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!line.contains("\n"), "\(r.stderr)")
        #expect(line.range(of: #"chunk [0-9a-f]{12} is stored as a delta against chunk [0-9a-f]{12}"#, options: .regularExpression) != nil, "\(line)")
        #expect(s.read("series.csv", in: copy) == before)
        #expect(try s.mlv("show", "\(h.commits[1]):series.csv", cwd: copy).status == 4)

        // A new version still commits (stored without the unreadable old ones as bases) and
        // reads back; the damaged history stays as it was.
        let v9 = Self.series(version: 9)
        try s.write("series.csv", v9, in: copy)
        let commit = try s.mlv("commit", "-m", "v9", cwd: copy)
        #expect(commit.status == 0, "\(commit.stderr)")
        #expect(try s.shown("HEAD:series.csv", cwd: copy) == v9)
        #expect(try s.mlv("show", "\(h.commits[1]):series.csv", cwd: copy).status == 4)
        before = v9

        // fsck: non-zero, naming what is wrong.
        let fsck = try s.mlv("fsck", cwd: copy)
        #expect(fsck.status == 4)
        #expect(fsck.stdout.contains("delta against chunk") || fsck.stdout.contains("indexed but missing"), "\(fsck.stdout)")
        for p in h.firstPacks { #expect(fsck.stdout.contains(String(p.split(separator: "/").last!.prefix(64))), "\(fsck.stdout)") }

        // fsck --repair: the other packs are intact and stay (nothing moved to lost/); the
        // missing base is still reported, exit 4.
        let packsBefore = Self.packs(store)
        let repair = try s.mlv("fsck", "--repair", cwd: copy)
        #expect(repair.status == 4, "\(repair.stdout)\(repair.stderr)")
        #expect(Self.packs(store) == packsBefore)
        #expect((try? FileManager.default.contentsOfDirectory(atPath: store + "/lost"))?.isEmpty ?? true)
        #expect(repair.stdout.contains("delta against chunk"), "\(repair.stdout)")
        #expect(try s.mlv("checkout", h.commits[1], cwd: copy).status == 4)
        #expect(s.read("series.csv", in: copy) == before)

        // The pack back (from a backup: the original) and the index rebuilt: every version reads.
        for p in h.firstPacks {
            try FileManager.default.createDirectory(atPath: store + "/packs/" + (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: h.store + "/packs/" + p, toPath: store + "/packs/" + p)
        }
        let again = try s.mlv("fsck", "--repair", cwd: copy)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        for (c, bytes) in zip(h.commits, h.versions) {
            #expect(try s.shown("\(c):series.csv", cwd: copy) == bytes)
        }
        #expect(try s.shown("HEAD:series.csv", cwd: copy) == v9)
    }

    /// v3 committed on top of v1 from v2's pointer (`git reset --soft`): its chunks are deltas
    /// against v2's, which no live commit references. gc must keep them (bases are live).
    @Test func gcKeepsBasesThatOnlyAGarbageCommitReferenced() throws {
        let s = try Sandbox()
        try s.write("series.csv", Self.series(version: 1))
        try s.mlvOK("track", "series.csv")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("series.csv", Self.series(version: 2))
        try s.mlvOK("commit", "-m", "v2")
        try s.git("reset", "-q", "--soft", "HEAD~1")
        let v3 = Self.series(version: 3)
        try s.write("series.csv", v3)
        try s.mlvOK("commit", "-m", "v3")
        try s.git("reflog", "expire", "--expire=now", "--all")
        let objects = try #require(try json(try s.mlvOK("fsck", "--json"))["objects"] as? Int)
        let gc = try json(try s.mlvOK("gc", "--json"))
        // Only v2's own manifest (and tree) are garbage: its chunks are v3's bases.
        #expect((gc["live_objects"] as? Int ?? 0) >= objects - 2, "\(gc), \(objects) objects")
        #expect(try s.shown("HEAD:series.csv") == v3)
        #expect(try s.shown("HEAD~1:series.csv") == Self.series(version: 1))
        let fsck = try s.mlv("fsck")
        #expect(fsck.status == 0, "\(fsck.stdout)\(fsck.stderr)")
    }

    @Test func aBasePackLostLocallyIsFetchedBackFromTheRemoteWhenRead() throws {
        let h = try history()
        let s = h.sandbox
        try s.mlvOK("remote", "add", "origin", s.root + "/remote", "--create")
        try s.git("commit", "-q", "-m", "remote")
        try s.mlvOK("push", "--all-commits")
        // The base pack and the index listing it gone (as after `fsck --repair` of a lost pack).
        for p in h.firstPacks { try FileManager.default.removeItem(atPath: h.store + "/packs/" + p) }
        let repaired = try s.mlv("fsck", "--repair")
        #expect(repaired.status == 4 && repaired.stdout.contains("delta against chunk"), "\(repaired.stdout)")
        // Reading version 2 fetches the pack holding its bases (commands fetch what they
        // read), then reads it exactly.
        let shown = try s.mlv("show", "\(h.commits[1]):series.csv")
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stderr.contains("fetched 1 pack"), "\(shown.stderr)")
        #expect([UInt8](shown.stdoutBytes) == h.versions[1])
        for (c, bytes) in zip(h.commits, h.versions) {
            #expect(try s.shown("\(c):series.csv") == bytes)
        }
        let fsck = try s.mlv("fsck")
        #expect(fsck.status == 0, "\(fsck.stdout)\(fsck.stderr)")
    }
}
