import Foundation
import Glibc
import MLVTestSupport
import Testing

/// A loopback TCP server that reads each request and closes the connection without an
/// answer: enough for curl to send (and trace) its request headers. Runs until the process ends.
func silentHTTPServer() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #expect(fd >= 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    #expect(bound == 0 && listen(fd, 16) == 0)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    let t = Thread {
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let c = accept(fd, nil, nil)
            if c < 0 { continue }
            _ = buf.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, 0) }
            close(c)
        }
    }
    t.start()
    return Int(UInt16(bigEndian: addr.sin_port))
}

@Suite struct HTTPTraceTests {
    /// MLV_HTTP_TRACE=1 printed the X-Amz-Security-Token header (a credential) in full.
    @Test func theTraceRedactsTheSessionToken() throws {
        let port = try silentHTTPServer()
        var s = try Sandbox()
        let token = "SECRET-SESSION-TOKEN-\(UUID().uuidString)"
        s.env = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret-key-example",
                 "AWS_SESSION_TOKEN": token, "AWS_REGION": "us-east-1", "MLV_HTTP_TRACE": "1"]
        try s.write("data/a.bin", noise(1000, seed: 1))
        try s.mlvOK("track", "data")
        try s.mlvOK("commit", "-m", "v1")
        try s.mlvOK("remote", "add", "origin", "s3://bucket/p", "--endpoint", "http://127.0.0.1:\(port)")
        let r = try s.mlvBounded(["push"], seconds: 120)
        #expect(!r.timedOut)
        #expect(r.status != 0)
        #expect(r.stderr.lowercased().contains("x-amz-security-token: [redacted]"), "\(r.stderr.prefix(3000))")
        #expect(!r.stderr.contains(token), "the session token was printed")
        #expect(!r.stderr.contains("secret-key-example"))
    }
}
