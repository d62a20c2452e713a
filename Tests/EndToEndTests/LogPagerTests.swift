import Foundation
import MLVTestSupport
import Testing

/// `mlv log` pages on a terminal as git does, so it takes `--no-pager` like `mlv diff`; off a
/// terminal (here, a pipe) the text is the same either way.
@Suite struct LogPagerTests {
    @Test func logTakesNoPager() throws {
        let s = try Sandbox()
        try s.write("data/a.csv", "id,x\n1,2\n")
        try s.mlvOK("track", "data/a.csv")
        try s.mlvOK("commit", "-m", "first")
        let paged = try s.mlvOK("log").stdout
        let plain = try s.mlvOK("log", "--no-pager").stdout
        #expect(plain == paged)
        #expect(plain.contains("first") && plain.contains("data/a.csv") && plain.contains("1 row × 2 columns"), "\(plain)")
    }
}
