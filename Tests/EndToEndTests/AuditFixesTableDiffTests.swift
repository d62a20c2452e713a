import Foundation
import Testing

/// The auditor's table-diff findings, each through the real binary: rows sharing a key,
/// changes that 32-bit cell hashes hid, and the mean and std of huge integers. Expected
/// figures come from the inputs written here or from Python (csv, json, statistics with
/// exact Fractions), never from mlv's own output.
@Suite struct AuditFixesTableDiffTests {
    /// The table part of `mlv diff --format json` for `path`.
    func table(_ s: Sandbox, _ path: String, _ extra: String...) throws -> [String: Any] {
        let r = try s.run(mlvBinary, ["diff", "--format", "json"] + extra + ["--", path])
        #expect(r.status == 0 || r.status == 1, "diff failed: \(r.stderr)")
        let j = try JSONSerialization.jsonObject(with: r.stdoutBytes) as? [String: Any] ?? [:]
        let t = (j["targets"] as? [[String: Any]])?.first { $0["path"] as? String == path }
        return t?["table"] as? [String: Any] ?? [:]
    }

    func rows(_ t: [String: Any]) -> [String: Int] {
        (t["rows"] as? [String: Any] ?? [:]).compactMapValues { $0 as? Int }
    }

    /// Python's reading of the same change: rows matched as a multiset within each key group;
    /// a key left with exactly one old and one new row is one modified row.
    static let keyedReference = """
    import csv, sys, collections, json
    old_text, new_text, key, sep = json.load(sys.stdin)
    def read(t):
        r = list(csv.reader(t.splitlines(), delimiter=sep))
        h = r[0]
        return h, [tuple(x) for x in r[1:]]
    ho, ro = read(old_text); hn, rn = read(new_text)
    ko = [ho.index(k) for k in key]; kn = [hn.index(k) for k in key]
    go = collections.defaultdict(collections.Counter); gn = collections.defaultdict(collections.Counter)
    for r in ro: go[tuple(r[i] for i in ko)][r] += 1
    for r in rn: gn[tuple(r[i] for i in kn)][r] += 1
    added = removed = modified = 0
    for k in set(go) | set(gn):
        o = go[k] - gn[k]; n = gn[k] - go[k]
        lo, ln = sum(o.values()), sum(n.values())
        if lo == 1 and ln == 1: modified += 1
        else: added += ln; removed += lo
    dup = lambda rows, ks: len(rows) - len({tuple(r[i] for i in ks) for r in rows})
    print(json.dumps({"old": len(ro), "new": len(rn), "added": added, "removed": removed, "modified": modified,
                      "duplicate_keys_old": dup(ro, ko), "duplicate_keys_new": dup(rn, kn)}))
    """

    func expectKeyed(_ old: String, _ new: String, file: String, key: String, sep: String,
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        let s = try Sandbox()
        try s.write(file, old)
        try s.mlvOK("track", file)
        try s.mlvOK("commit", "-m", "a")
        try s.write(file, new)
        let got = rows(try table(s, file, "--key", key))
        let input = String(decoding: try JSONSerialization.data(withJSONObject: [old, new, key.split(separator: ",").map(String.init), sep]), as: UTF8.self)
        let want = try JSONSerialization.jsonObject(with: Data(try python(Self.keyedReference, input: input).utf8)) as? [String: Int] ?? [:]
        for (k, v) in want { #expect(got[k] == v, "\(k): mlv \(got[k].map(String.init) ?? "nil"), Python \(v)", sourceLocation: sourceLocation) }
        if let o = got["old"], let n = got["new"], let a = got["added"], let r = got["removed"] {
            #expect(o + a - r == n, "old + added - removed must be new", sourceLocation: sourceLocation)
        }
    }

    /// The auditor's repro: a time series keyed by station, one row appended.
    @Test func appendingToATimeSeriesKeyedByStationAddsOneRow() throws {
        var old = "station\tdate\tv\n"
        for s in ["A", "B"] { for d in 1...4 { old += "\(s)\t2020-0\(d)\t1\n" } }
        let new = old + "A\t2030-01\t9\n"
        try expectKeyed(old, new, file: "ts.tsv", key: "station", sep: "\t")
        // Stated plainly as well: one row added, none removed.
        let s = try Sandbox()
        try s.write("ts.tsv", old)
        try s.mlvOK("track", "ts.tsv")
        try s.mlvOK("commit", "-m", "a")
        try s.write("ts.tsv", new)
        let r = rows(try table(s, "ts.tsv", "--key", "station"))
        #expect(r["added"] == 1 && r["removed"] == 0 && r["modified"] == 0)
        #expect(r["duplicate_keys_old"] == 6 && r["duplicate_keys_new"] == 7)
    }

    /// 40 stations × 100 days, one row appended: 1 added (mlv said 3,946 removed).
    @Test func aLongSeriesWithOneRowAppended() throws {
        var old = "station,day,v\n"
        for s in 0..<40 { for d in 0..<100 { old += "s\(s),\(d),\((s * 31 + d * 7) % 97)\n" } }
        try expectKeyed(old, old + "s3,100,5\n", file: "series.csv", key: "station", sep: ",")
    }

    /// An identical duplicate row (a polling CSV has one) is no change at all.
    @Test func anIdenticalDuplicateKeyIsNoChange() throws {
        var old = "poll_id,pollster,pct\n"
        for i in 0..<300 { old += "\(i),p\(i % 7),\(i % 50)\n" }
        old += "17,p3,17\n"
        // The same rows in another order: the file changed, the rows did not.
        let lines = old.split(separator: "\n", omittingEmptySubsequences: true)
        let reordered = ([lines[0], lines[lines.count - 1]] + lines[1..<(lines.count - 1)]).joined(separator: "\n") + "\n"
        try expectKeyed(old, reordered, file: "polls.csv", key: "poll_id", sep: ",")
        // One duplicate changed, one row of a unique key changed, one duplicate removed.
        var new = old.replacingOccurrences(of: "\n17,p3,17\n", with: "\n17,p3,18\n")
        new = new.replacingOccurrences(of: "\n40,p5,40\n", with: "\n40,p5,41\n")
        try expectKeyed(old, new, file: "polls.csv", key: "poll_id", sep: ",")
        try expectKeyed(new, old.replacingOccurrences(of: "\n17,p3,17\n", with: "\n"), file: "polls.csv", key: "poll_id", sep: ",")
    }

    /// Random tables with many duplicate keys: mlv agrees with Python on every count.
    @Test func randomDuplicateKeysAgreeWithPython() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<3 {
            var old = "k,v\n", new = "k,v\n"
            for _ in 0..<200 { old += "\(Int.random(in: 0..<30, using: &rng)),\(Int.random(in: 0..<4, using: &rng))\n" }
            for line in old.split(separator: "\n").dropFirst() {
                switch Int.random(in: 0..<10, using: &rng) {
                case 0: continue
                case 1: new += "\(line.split(separator: ",")[0]),\(Int.random(in: 0..<4, using: &rng))\n"
                case 2: new += "\(line)\n\(line)\n"
                default: new += "\(line)\n"
                }
            }
            for _ in 0..<10 { new += "\(Int.random(in: 0..<40, using: &rng)),\(Int.random(in: 0..<4, using: &rng))\n" }
            try expectKeyed(old, new, file: "r.csv", key: "k", sep: ",")
        }
    }

    /// 6.3312 and 13.4748 have the same 32-bit FNV-1a hash: the change was unreported.
    @Test func aChangedCellWhoseHashCollidesIsReported() throws {
        let collide = try python("""
        def fnv(b):
            h = 0xcbf29ce484222325
            for c in b: h = ((h ^ c) * 0x100000001b3) & (2**64 - 1)
            h ^= h >> 33; h = (h * 0xff51afd7ed558ccd) & (2**64 - 1); h ^= h >> 33
            return h & 0xffffffff
        print(fnv(b"6.3312") == fnv(b"13.4748"))
        """)
        #expect(collide == "True", "the two values are the auditor's colliding pair")
        let s = try Sandbox()
        try s.write("p.csv", "id,price\n1,6.3312\n2,1.5\n")
        try s.mlvOK("track", "p.csv")
        try s.mlvOK("commit", "-m", "a")
        try s.write("p.csv", "id,price\n1,13.4748\n2,1.5\n")
        let t = try table(s, "p.csv", "--key", "id")
        #expect(rows(t)["modified"] == 1 && t["cells_changed"] as? Int == 1)
        let cells = ((t["modified_rows"] as? [[String: Any]])?.first?["cells"] as? [[String: Any]]) ?? []
        #expect(cells.map { "\($0["old"] ?? "") -> \($0["new"] ?? "")" } == ["6.3312 -> 13.4748"])
        // Unkeyed: one row removed and one added, not "no change".
        let u = rows(try table(s, "p.csv"))
        #expect(u["added"] == 1 && u["removed"] == 1)
    }

    /// Mean, std and median of huge integers against Python's exact statistics.
    func expectStats(_ values: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let s = try Sandbox()
        try s.write("ids.jsonl", "{\"id\": 0}\n")
        try s.mlvOK("track", "ids.jsonl")
        try s.mlvOK("commit", "-m", "a")
        try s.write("ids.jsonl", values.map { "{\"id\": \($0)}\n" }.joined())
        let stats = (try table(s, "ids.jsonl")["stats"] as? [[String: Any]])?.first { $0["column"] as? String == "id" }
        let new = stats?["new"] as? [String: Any] ?? [:]
        let want = try python("""
        import sys, json, statistics
        from fractions import Fraction
        xs = [int(x) for x in sys.stdin.read().split()]
        print(json.dumps([float(Fraction(sum(xs), len(xs))), statistics.stdev(xs), float(statistics.median([Fraction(x) for x in xs]))]))
        """, input: values.joined(separator: "\n"))
        let w = try JSONSerialization.jsonObject(with: Data(want.utf8)) as? [Double] ?? []
        let mean = new["mean"] as? Double, std = new["std"] as? Double, median = new["median"] as? Double
        #expect(mean == w[0], "mean: mlv \(String(describing: mean)), Python \(w[0])", sourceLocation: sourceLocation)
        #expect(median == w[2], "median: mlv \(String(describing: median)), Python \(w[2])", sourceLocation: sourceLocation)
        #expect(std.map { abs($0 - w[1]) <= 1e-12 * w[1] } == true, "std: mlv \(String(describing: std)), Python \(w[1])", sourceLocation: sourceLocation)
    }

    @Test func statisticsOfIntegersAbove2To53() throws {
        try expectStats((0..<50).map { String(9007199254740993 + $0) })
    }

    @Test func statisticsOfGEOIDLikeIntegers() throws {
        var rng = SystemRandomNumberGenerator()
        try expectStats((0..<40).map { _ in String(1_000_000_000_000_000_000 + Int64.random(in: 0..<16_000_000, using: &rng)) })
        // The auditor's mean: correctly rounded, not drifting in the last digits.
        try expectStats((0..<10).map { String(8828248276170584 + 3 * $0) })
    }
}
