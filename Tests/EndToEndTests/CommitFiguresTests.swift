import Foundation
import MLVTestSupport
import Testing

/// The commit summary's figures are exact and consistent: "new" is file data stored for the
/// first time, never more than what was read (a folder of tiny files needs more bytes of
/// manifests and trees than it holds, which once showed as "33.1 MiB new of 33.0 read").
@Suite struct CommitFiguresTests {
    @Test func newDataIsNeverMoreThanWhatWasRead() throws {
        let s = try Sandbox()
        for i in 0..<300 { try s.write("data/tiny/f\(i).txt", "\(i)\n") }
        try s.mlvOK("track", "data/tiny")
        let r = try s.mlvOK("commit", "-m", "v1", "--json")
        let j = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let read = j["bytes_read"] as! Int, new = j["new_bytes"] as! Int, stored = j["stored_bytes"] as! Int
        let data = (0..<300).map { "\($0)\n".utf8.count }.reduce(0, +)
        #expect(read == data)
        #expect(new == data, "every byte is new: \(new) of \(data)")
        #expect(stored > new, "300 manifests and a tree are stored too: \(stored)")
        // A second commit with one file changed: one new chunk.
        try s.write("data/tiny/f7.txt", "seven\n")
        let r2 = try s.mlvOK("commit", "-m", "v2", "--json")
        let j2 = try JSONSerialization.jsonObject(with: Data(r2.stdout.utf8)) as! [String: Any]
        #expect(j2["new_bytes"] as? Int == 6 && j2["bytes_read"] as? Int == 6, "\(j2)")
    }

    /// Lines ending in a lone CR are one line to mlv's readers: no count rather than a wrong
    /// one (it used to say 0 rows × 9 columns for 3 rows × 3).
    @Test func bareCRLineEndsGiveNoCount() throws {
        let s = try Sandbox()
        try s.write("cr.csv", "id,name,note\r1,a,b\r2,c,d\r3,e,f\r")
        try s.write("crlf.csv", "id,name,note\r\n1,a,b\r\n2,c,d\r\n")
        try s.mlvOK("track", "cr.csv", "crlf.csv")
        let c = try s.mlvOK("commit", "-m", "v1")
        #expect(c.stderr.contains("warning: cr.csv: no row count: its lines end in a lone CR"), "\(c.stderr)")
        #expect(!c.stderr.contains("crlf.csv"))
        let cr = try String(contentsOfFile: s.repo + "/cr.csv.mlv", encoding: .utf8)
        #expect(!cr.contains("rows:") && !cr.contains("columns:"), "\(cr)")
        let crlf = try String(contentsOfFile: s.repo + "/crlf.csv.mlv", encoding: .utf8)
        #expect(crlf.contains("rows: 2") && crlf.contains("columns: 3"), "\(crlf)")
    }

    /// A table ending inside an open quote has no count, and is read once, not twice.
    @Test func aFileEndingInsideQuotesIsReadOnce() throws {
        let s = try Sandbox()
        let text = "a,b\n1,2\n3,\"open\n4,5\n"
        try s.write("o.csv", text)
        try s.mlvOK("track", "o.csv")
        let r = try s.mlvOK("commit", "-m", "v1", "--json")
        let j = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(j["bytes_read"] as? Int == text.utf8.count && j["files_read"] as? Int == 1, "\(j)")
        let u = j["uncounted_tables"] as? [[String: Any]]
        #expect(u?.count == 1 && u?.first?["path"] as? String == "o.csv" && u?.first?["reason"] as? String == "open_quote", "\(j)")
        #expect(r.stderr.contains("warning: o.csv: no row count: it ends inside a quoted field"), "\(r.stderr)")
        let p = try String(contentsOfFile: s.repo + "/o.csv.mlv", encoding: .utf8)
        #expect(!p.contains("rows:"))
    }
}
