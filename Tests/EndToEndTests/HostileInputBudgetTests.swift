import Foundation
import MLVTestSupport
import Testing

/// A YAML alias bomb: ten scalars, then lists of ten aliases to the previous list; six levels
/// stand for over a million nodes in a few hundred bytes (issue 16 had nine: 782 bytes).
func aliasBomb(levels: Int = 6, key: String = "top") -> String {
    var s = "l0: &l0 [" + Array(repeating: "x", count: 10).joined(separator: ",") + "]\n"
    for i in 1..<levels { s += "l\(i): &l\(i) [" + Array(repeating: "*l\(i - 1)", count: 10).joined(separator: ",") + "]\n" }
    return s + "\(key): *l\(levels - 1)\n"
}

/// A CSV with `columns` columns and `rows` rows; cell (r, c) is r * c, plus `bump` in the last cell.
func wideCSV(columns: Int, rows: Int = 2, bump: Int = 0) -> String {
    var s = (0..<columns).map { "c\($0)" }.joined(separator: ",") + "\n"
    for r in 0..<rows { s += (0..<columns).map { String(r * $0 + ($0 == columns - 1 && r == rows - 1 ? bump : 0)) }.joined(separator: ",") + "\n" }
    return s
}

/// Issue 16: hostile repository content must not hang or exhaust mlv.
@Suite struct HostileInputBudgetTests {
    /// (12) A metrics file that is an alias bomb: one line naming the file and the limit.
    @Test func metricsAliasBombIsOneLineError() throws {
        let s = try Sandbox()
        try s.write("metrics.yaml", "acc: 0.9\n")
        try s.mlvOK("track", "--kind", "metrics", "metrics.yaml")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("metrics.yaml", aliasBomb())
        for args in [["metrics", "show"], ["diff"], ["metrics", "diff"]] {
            let r = try s.run(mlvBinary, args)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stderr.contains("metrics.yaml@working tree: ") && r.stderr.contains("100,000 more nodes than the file has bytes"), "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        }
    }

    /// (12) mlv.yaml is read by every command: a bomb in it (even under a key mlv ignores) is
    /// refused before it is expanded.
    @Test func configAliasBombIsRefused() throws {
        let s = try Sandbox()
        try s.write("mlv.yaml", "version: 1\n" + aliasBomb(key: "junk"))
        let r = try s.mlv("status")
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("mlv.yaml") && r.stderr.contains("100,000 more nodes than the file has bytes"), "\(r.stderr)")
    }

    /// A base-60 integer that overflows in mlv.yaml crashed every command inside Yams.
    @Test func overflowingBase60IntegerInConfigIsAnError() throws {
        let s = try Sandbox()
        try s.write("mlv.yaml", "version: 1:0:0:0:0:0:0:0:0:0:0:0\n")
        let r = try s.mlv("status")
        #expect(r.status == 2, "\(r.status) \(r.stderr)")
        #expect(r.stderr.contains("mlv.yaml") && r.stderr.contains("base-60") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }

    /// (13) A table wider than 10,000 columns gets a byte-level summary and one warning line,
    /// not a table diff; the pointer's `columns` is exact.
    @Test func tooWideCSVGetsByteSummaryAndWarning() throws {
        let s = try Sandbox()
        try s.write("data/wide.csv", wideCSV(columns: 10_001))
        try s.mlvOK("track", "data/wide.csv")
        try s.mlvOK("commit", "-m", "v1")
        #expect(String(decoding: s.read("data/wide.csv.mlv") ?? [], as: UTF8.self).contains("columns: 10001\n"))
        try s.write("data/wide.csv", wideCSV(columns: 10_001, bump: 1))
        let r = try s.mlvOK("diff", "--format", "json")
        let t = try #require((try json(r)["targets"] as? [[String: Any]])?.first)
        #expect(t["table"] == nil)
        #expect(t["binary"] != nil)
        let warnings = t["warnings"] as? [String] ?? []
        #expect(warnings.count == 1 && warnings[0].contains("data/wide.csv@HEAD") && warnings[0].contains("10000"), "\(warnings)")
        #expect(r.stderr.hasPrefix("warning: ") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        // At the limit it is still a table diff.
        let ok = try Sandbox()
        try ok.write("data/t.csv", wideCSV(columns: 10_000))
        try ok.mlvOK("track", "data/t.csv")
        try ok.mlvOK("commit", "-m", "v1")
        try ok.write("data/t.csv", wideCSV(columns: 10_000, bump: 1))
        let tab = try #require(((try json(ok.mlvOK("diff", "--format", "json"))["targets"] as? [[String: Any]])?.first)?["table"] as? [String: Any])
        #expect((tab["rows"] as? [String: Any])?["added"] as? Int == 1)
    }

    /// (13) JSON Lines: a line with more keys than the limit, the same way.
    @Test func tooWideJSONLinesGetsByteSummary() throws {
        let s = try Sandbox()
        func line(_ v: Int) -> String { "{" + (0..<10_001).map { "\"k\($0)\": \($0 == 0 ? v : $0)" }.joined(separator: ", ") + "}\n" }
        try s.write("data/t.jsonl", line(1))
        try s.mlvOK("track", "data/t.jsonl")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/t.jsonl", line(2))
        let r = try s.mlvOK("diff", "--format", "json")
        let t = try #require((try json(r)["targets"] as? [[String: Any]])?.first)
        #expect(t["table"] == nil && t["binary"] != nil)
        #expect((t["warnings"] as? [String])?.first?.contains("more than 10000 keys") == true, "\(t["warnings"] ?? "none")")
    }

    /// (13) One record over 16 MiB: refused the same way, without holding it whole.
    @Test func recordOverBudgetGetsByteSummary() throws {
        let s = try Sandbox()
        let big = String(repeating: "x", count: 17 << 20)
        try s.write("data/t.csv", "a,b\n1,2\n")
        try s.mlvOK("track", "data/t.csv")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/t.csv", "a,b\n1,2\n" + big + ",3\n")
        let r = try s.mlvOK("diff", "--format", "json")
        let t = try #require((try json(r)["targets"] as? [[String: Any]])?.first)
        #expect(t["table"] == nil && t["binary"] != nil)
        #expect((t["warnings"] as? [String])?.first?.contains("line 3 is larger than 16 MiB") == true, "\(t["warnings"] ?? "none")")
    }

    /// (13) The pointer's `columns` is exact or absent: a header past the 1 MiB the archiver
    /// keeps was counted from its first MiB (`columns: 144961` for 10^6 columns).
    @Test func pointerColumnsAreExactOrAbsent() throws {
        let s = try Sandbox()
        let header = (0..<150_000).map { "col\($0)" }.joined(separator: ",")
        #expect(header.utf8.count > 1 << 20)
        try s.write("data/wide.csv", header + "\n" + Array(repeating: "1", count: 150_000).joined(separator: ",") + "\n")
        try s.write("data/quoted.csv", "a,\"b\nc\",d\n1,2,3\n")   // a line break inside a quoted column name
        try s.write("data/plain.csv", "a,\"b,c\",d\n1,2,3\n")
        try s.mlvOK("track", "data/wide.csv", "data/quoted.csv", "data/plain.csv")
        try s.mlvOK("commit", "-m", "v1")
        func pointer(_ p: String) -> String { String(decoding: s.read(p + ".mlv") ?? [], as: UTF8.self) }
        #expect(!pointer("data/wide.csv").contains("columns:"), "\(pointer("data/wide.csv"))")
        #expect(pointer("data/wide.csv").contains("rows: 1\n"))
        // A quoted line break in the header: read as `mlv diff` reads it (Python's csv: 3 fields).
        #expect(pointer("data/quoted.csv").contains("columns: 3\n"), "\(pointer("data/quoted.csv"))")
        #expect(pointer("data/plain.csv").contains("columns: 3\n"), "\(pointer("data/plain.csv"))")
    }

    /// `mlv metrics show` lists the working tree's values: not a metrics file deleted there
    /// (it showed HEAD's), and it works before the first commit (it needed HEAD).
    @Test func metricsShowReadsTheWorkingTreeOnly() throws {
        let s = try Sandbox()
        try s.write("metrics.json", "{\"acc\": 0.9}\n")
        try s.write("eval.json", "{\"f1\": 0.5}\n")
        try s.mlvOK("track", "--kind", "metrics", "metrics.json", "eval.json")
        let before = try s.mlvOK("metrics", "show")
        #expect(before.stdout.contains("acc") && before.stdout.contains("0.9") && before.stdout.contains("f1"), "\(before.stdout)")
        try s.mlvOK("commit", "-m", "v1")
        try FileManager.default.removeItem(atPath: s.repo + "/eval.json")
        let after = try s.mlvOK("metrics", "show")
        #expect(after.stdout.contains("acc"), "\(after.stdout)")
        #expect(!after.stdout.contains("f1"), "\(after.stdout)")
        #expect(try s.mlvOK("metrics", "show", "HEAD").stdout.contains("f1"))
    }

    /// `mlv diff` before the first commit compares against nothing: everything is added.
    @Test func diffBeforeTheFirstCommit() throws {
        let s = try Sandbox()
        try s.write("data/t.csv", "a,b\n1,2\n")
        try s.write("metrics.json", "{\"acc\": 0.9}\n")
        try s.mlvOK("track", "data/t.csv")
        try s.mlvOK("track", "--kind", "metrics", "metrics.json")
        let r = try json(s.mlvOK("diff", "--format", "json"))
        #expect((r["targets"] as? [[String: Any]])?.map { $0["change"] as? String } == ["added"])
        let m = try #require((r["metrics"] as? [[String: Any]])?.first)
        #expect(m["key"] as? String == "acc" && m["old"] == nil && m["new"] as? Double == 0.9, "\(m)")
        #expect(try s.mlvOK("metrics", "diff").stdout.contains("acc"))
    }
}
