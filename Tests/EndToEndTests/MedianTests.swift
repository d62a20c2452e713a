import Foundation
import MLVTestSupport
import Testing

/// The per-column median is exact (Python's `statistics.median` over the file), or past its
/// memory budget a reservoir estimate marked as one; drift needs enough values on both
/// sides (issue 10).
@Suite struct MedianTests {
    /// The stats of the first table target's columns.
    func stats(_ report: [String: Any]) -> [[String: Any]] {
        let t = (report["targets"] as? [[String: Any]])?.first
        return ((t?["table"] as? [String: Any])?["stats"] as? [[String: Any]]) ?? []
    }

    /// Python's median of every column of a CSV (numbers as Python reads them: int when the
    /// cell is an integer, else float), as a JSON list.
    static let medians = """
    import csv, json, statistics, sys
    rows = list(csv.reader(open(sys.argv[1], newline="")))
    out = []
    for j in range(len(rows[0])):
        xs = [int(r[j]) if r[j].lstrip("-").isdigit() else float(r[j]) for r in rows[1:]]
        out.append(float(statistics.median(xs)))
    print(json.dumps(out))
    """

    func pythonMedians(_ s: Sandbox, _ file: String) throws -> [Double] {
        let data = Data(try python(MedianTests.medians, [s.repo + "/" + file]).utf8)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [Double])
    }

    /// Commits `old`, writes the new version with python `gen` (argv[1] = the file) and diffs.
    func diff(_ s: Sandbox, old: String, gen: String) throws -> [String: Any] {
        try s.write("d.csv", old)
        try s.mlvOK("track", "d.csv")
        try s.mlvOK("commit", "-m", "v1")
        _ = try python(gen, [s.repo + "/d.csv"])
        return try json(try s.mlvOK("diff", "--format", "json"))
    }

    @Test func theMedianOfALongIdColumnIsExact() throws {
        let s = try Sandbox()
        // 0..449999 (median 224999.5: the reservoir's was 222173), a float column and ids past
        // 2^53 (whose midpoint must not be that of two rounded doubles).
        let report = try diff(s, old: "id,x,big\n" + (0..<5000).map { "\($0),\(Double($0) / 7),\(4611686018427387904 + $0 * 3)\n" }.joined(), gen: """
        import random, sys
        r = random.Random(5)
        with open(sys.argv[1], "w") as f:
            f.write("id,x,big\\n")
            for i in range(450000):
                f.write(f"{i},{r.random() * 1000:.6f},{9007199254740993 + 2 * i}\\n")
        """)
        let want = try pythonMedians(s, "d.csv")
        #expect(want[0] == 224999.5)
        let st = stats(report)
        #expect(st.count == 3)
        for (j, c) in st.enumerated() {
            let new = try #require(c["new"] as? [String: Any])
            #expect(new["median"] as? Double == want[j], "column \(j): \(new)")
            #expect(new["median_exact"] as? Bool == true, "column \(j)")
        }
        // The old side: 0..4999 has median 2499.5 (the reservoir's was 2495.5).
        let old = try #require(st.first?["old"] as? [String: Any])
        #expect(old["median"] as? Double == 2499.5)
        #expect(old["median_exact"] as? Bool == true)
        let text = try s.mlvOK("diff").stdout
        // Human formats show six significant digits (224999.5 as 225000); JSON the figure.
        #expect(text.contains("2499.5 → \(String(format: "%.6g", want[0]))"), "\(text)")
        #expect(!text.contains("≈"), "\(text)")
    }

    @Test func anOddCountOfHugeIdsHasTheirExactMiddle() throws {
        let s = try Sandbox()
        let report = try diff(s, old: "id\n1\n", gen: """
        import sys
        with open(sys.argv[1], "w") as f:
            f.write("id\\n")
            for i in range(10001):
                f.write(f"{9223372036854775807 - 7 * ((i * 7919) % 10001)}\\n")
        """)
        let want = try pythonMedians(s, "d.csv")
        let new = try #require(stats(report).first?["new"] as? [String: Any])
        #expect(new["median"] as? Double == want[0])
        #expect(new["median_exact"] as? Bool == true)
    }

    @Test func pastTheMemoryBudgetTheMedianIsAMarkedEstimate() throws {
        var s = try Sandbox()
        // 64 KiB hold 8,192 values: 30,000 cannot be kept.
        s.env["MLV_MEDIAN_MEMORY"] = "65536"
        let report = try diff(s, old: "v\n1\n2\n3\n", gen: """
        import sys
        with open(sys.argv[1], "w") as f:
            f.write("v\\n")
            for i in range(30000):
                f.write(f"{(i * 7919) % 30000}\\n")
        """)
        let want = try pythonMedians(s, "d.csv")
        let c = try #require(stats(report).first)
        let new = try #require(c["new"] as? [String: Any])
        let old = try #require(c["old"] as? [String: Any])
        #expect(new["median_exact"] as? Bool == false)
        #expect(old["median_exact"] as? Bool == true)
        #expect(old["median"] as? Double == 2)
        let m = try #require(new["median"] as? Double)
        // A sample of 4,096 of 30,000: within a few percent of the range.
        #expect(abs(m - want[0]) < 1500, "\(m) vs \(want[0])")
        #expect(new["distinct_exact"] as? Bool == true)
        for format in ["text", "md", "html"] {
            let out = try s.mlvOK("diff", "--format", format).stdout
            #expect(out.contains("≈"), "\(format): \(out)")
        }
    }

    @Test func driftNeedsAHundredValuesOnBothSides() throws {
        let s = try Sandbox()
        try s.write("d.csv", "name\nalice\n")
        try s.mlvOK("track", "d.csv")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("d.csv", "name\nbob\ncarol\n")
        let c = try #require(stats(try json(try s.mlvOK("diff", "--format", "json"))).first)
        #expect(c["drift"] == nil || c["drift"] is NSNull, "\(c)")
        #expect(c["drifted"] as? Bool == false)
        let text = try s.mlvOK("diff").stdout
        #expect(!text.contains("!"), "\(text)")
        #expect(!text.contains("max drift"), "\(text)")
        // No drift value: the gate does not fire.
        let gate = try s.mlv("diff", "--format", "json", "--fail-on", "drift(d.csv) > 0.1")
        #expect(gate.status == 0, "\(gate.stdout)\n\(gate.stderr)")
        let gates = try #require(try json(gate)["gates"] as? [[String: Any]], "\(gate.stdout)")
        #expect(gates.first?["fired"] as? Bool == false)

        // 99 values on one side: still none; 100 on both: disjoint categories drift.
        try s.write("d.csv", "name\n" + (0..<99).map { "a\($0)\n" }.joined())
        try s.mlvOK("commit", "-m", "v2")
        try s.write("d.csv", "name\n" + (0..<150).map { "b\($0)\n" }.joined())
        var c2 = try #require(stats(try json(try s.mlvOK("diff", "--format", "json"))).first)
        #expect(c2["drift"] == nil || c2["drift"] is NSNull, "\(c2)")
        try s.write("d.csv", "name\n" + (0..<100).map { "a\($0)\n" }.joined())
        try s.mlvOK("commit", "-m", "v3")
        try s.write("d.csv", "name\n" + (0..<100).map { "b\($0)\n" }.joined())
        c2 = try #require(stats(try json(try s.mlvOK("diff", "--format", "json"))).first)
        let d = try #require(c2["drift"] as? Double, "\(c2)")
        #expect(d > 0.2)
        #expect(c2["drifted"] as? Bool == true)
        #expect(try s.mlv("diff", "--fail-on", "drift(d.csv) > 0.2").status == 10)
    }
}
