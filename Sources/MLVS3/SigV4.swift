// SigV4 — AWS Signature Version 4 for request headers, as S3 and S3-compatible servers check
// it. Checked against AWS's published test vectors (Tests/MLVS3Tests/SigV4Tests.swift).
//
//   canonical request = METHOD \n URI \n sorted query \n "name:value\n" per signed header \n
//                       signed header names joined by ';' \n hex(sha256(payload))
//   string to sign    = "AWS4-HMAC-SHA256" \n amz-date \n date/region/service/aws4_request \n
//                       hex(sha256(canonical request))
//   signing key       = HMAC chain of "AWS4"+secret over date, region, service, "aws4_request"
import MLVSystem
import Glibc

public struct SigV4: Sendable {
    public let credentials: AWSCredentials
    public let region: String
    public let service: String

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    public static let emptyPayloadHash = hex(sha256([]))

    /// The headers to send: the given ones plus x-amz-date, x-amz-content-sha256 (for S3), the
    /// session token when there is one, and Authorization. `path` is the URI path exactly as
    /// sent (already encoded: S3 does not encode it a second time); `query` is raw (unencoded)
    /// name/value pairs; `time` is seconds since the epoch.
    public func sign(method: String, host: String, path: String, query: [(String, String)],
                     headers: [(String, String)], payloadHash: String, time: Int) -> [(String, String)] {
        let amzDate = Self.amzDate(time)
        var all = headers
        all.append(("Host", host))
        all.append(("X-Amz-Date", amzDate))
        if service == "s3" { all.append(("X-Amz-Content-SHA256", payloadHash)) }
        if let t = credentials.sessionToken { all.append(("X-Amz-Security-Token", t)) }
        let auth = authorization(method: method, path: path, query: query, headers: all, payloadHash: payloadHash, amzDate: amzDate)
        all.append(("Authorization", auth))
        return all
    }

    /// The Authorization header value for a request whose headers are all given (including
    /// host and x-amz-date). Exposed for the test vectors.
    public func authorization(method: String, path: String, query: [(String, String)], headers: [(String, String)],
                              payloadHash: String, amzDate: String) -> String {
        var canon: [String: String] = [:]
        for (k, v) in headers {
            let name = k.lowercased()
            // Sequential spaces collapse to one; a header given twice is comma-joined.
            let value = v.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            canon[name] = canon[name].map { "\($0),\(value)" } ?? value
        }
        let names = canon.keys.sorted()
        let signedHeaders = names.joined(separator: ";")
        let canonicalRequest = [
            method,
            path.isEmpty ? "/" : path,
            Self.canonicalQuery(query),
            names.map { "\($0):\(canon[$0]!)\n" }.joined(),
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
        let day = String(amzDate.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hex(Self.sha256(Array(canonicalRequest.utf8)))].joined(separator: "\n")
        let signature = Self.hex(Self.hmac(signingKey(day: day), Array(stringToSign.utf8)))
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    public func signingKey(day: String) -> [UInt8] {
        var k = Self.hmac(Array("AWS4\(credentials.secretAccessKey)".utf8), Array(day.utf8))
        for part in [region, service, "aws4_request"] { k = Self.hmac(k, Array(part.utf8)) }
        return k
    }

    /// Query pairs encoded and sorted by name, then value.
    public static func canonicalQuery(_ query: [(String, String)]) -> String {
        query.map { (uriEncode($0.0, encodeSlash: true), uriEncode($0.1, encodeSlash: true)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters kept, everything
    /// else as %XX of its UTF-8 bytes (upper-case hex); '/' kept in paths.
    public static func uriEncode(_ s: String, encodeSlash: Bool) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            case UInt8(ascii: "/") where !encodeSlash:
                out += "/"
            default:
                let digits = Array("0123456789ABCDEF".utf8)
                out += "%"
                out.unicodeScalars.append(Unicode.Scalar(digits[Int(b >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(digits[Int(b & 15)]))
            }
        }
        return out
    }

    /// yyyyMMdd'T'HHmmss'Z' in UTC.
    public static func amzDate(_ time: Int) -> String {
        var t = time_t(time)
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(tm.tm_year + 1900)\(two(tm.tm_mon + 1))\(two(tm.tm_mday))T\(two(tm.tm_hour))\(two(tm.tm_min))\(two(tm.tm_sec))Z"
    }

    public static func sha256(_ data: [UInt8]) -> [UInt8] {
        Digest.sha256(data)
    }

    /// HMAC-SHA256 (RFC 2104), written out over the digest: 64-byte blocks, ipad 0x36, opad 0x5c.
    public static func hmac(_ key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var k = key.count > 64 ? sha256(key) : key
        k += [UInt8](repeating: 0, count: 64 - k.count)
        let inner = sha256(k.map { $0 ^ 0x36 } + message)
        return sha256(k.map { $0 ^ 0x5c } + inner)
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
