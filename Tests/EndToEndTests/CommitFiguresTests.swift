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
}
