import Testing
@testable import MLVS3

/// AWS's published examples: the Signature Version 4 test suite (service "service") and the
/// worked S3 examples of "Authenticating Requests: Using the Authorization Header". Each
/// expected signature is AWS's, not one this code produced.
@Suite struct SigV4Tests {
    let suite = SigV4(credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                      region: "us-east-1", service: "service")
    let s3 = SigV4(credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                   region: "us-east-1", service: "s3")
    let s3Date = "20130524T000000Z"
    let s3Host = "examplebucket.s3.amazonaws.com"

    func signature(_ auth: String) -> String { String(auth.split(separator: "=").last!) }

    @Test func getVanilla() {
        let auth = suite.authorization(method: "GET", path: "/", query: [],
                                       headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
                                       payloadHash: SigV4.emptyPayloadHash, amzDate: "20150830T123600Z")
        #expect(auth == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test func getVanillaQueryOrderKeyCase() {
        let auth = suite.authorization(method: "GET", path: "/", query: [("Param2", "value2"), ("Param1", "value1")],
                                       headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
                                       payloadHash: SigV4.emptyPayloadHash, amzDate: "20150830T123600Z")
        #expect(signature(auth) == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    }

    @Test func iamListUsersAndItsSigningKey() {
        let iam = SigV4(credentials: suite.credentials, region: "us-east-1", service: "iam")
        #expect(SigV4.hex(iam.signingKey(day: "20150830")) == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
        let auth = iam.authorization(method: "GET", path: "/", query: [("Action", "ListUsers"), ("Version", "2010-05-08")],
                                     headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
                                               ("Host", "iam.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
                                     payloadHash: SigV4.emptyPayloadHash, amzDate: "20150830T123600Z")
        #expect(signature(auth) == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
    }

    @Test func s3GetObjectWithRange() {
        let auth = s3.authorization(method: "GET", path: "/test.txt", query: [],
                                    headers: [("Host", s3Host), ("Range", "bytes=0-9"), ("x-amz-content-sha256", SigV4.emptyPayloadHash), ("x-amz-date", s3Date)],
                                    payloadHash: SigV4.emptyPayloadHash, amzDate: s3Date)
        #expect(auth == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func s3PutObjectThroughSign() {
        let body = Array("Welcome to Amazon S3.".utf8)
        let hash = SigV4.hex(SigV4.sha256(body))
        #expect(hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        // 2013-05-24T00:00:00Z as seconds since the epoch.
        let headers = s3.sign(method: "PUT", host: s3Host, path: "/" + SigV4.uriEncode("test$file.text", encodeSlash: false), query: [],
                              headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
                              payloadHash: hash, time: 1_369_353_600)
        let auth = headers.first { $0.0 == "Authorization" }!.1
        #expect(auth.contains("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"))
        #expect(signature(auth) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
        #expect(headers.contains { $0.0 == "X-Amz-Date" && $0.1 == s3Date })
    }

    @Test func s3GetBucketLifecycle() {
        let auth = s3.authorization(method: "GET", path: "/", query: [("lifecycle", "")],
                                    headers: [("Host", s3Host), ("x-amz-content-sha256", SigV4.emptyPayloadHash), ("x-amz-date", s3Date)],
                                    payloadHash: SigV4.emptyPayloadHash, amzDate: s3Date)
        #expect(signature(auth) == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test func s3ListObjects() {
        let auth = s3.authorization(method: "GET", path: "/", query: [("prefix", "J"), ("max-keys", "2")],
                                    headers: [("Host", s3Host), ("x-amz-content-sha256", SigV4.emptyPayloadHash), ("x-amz-date", s3Date)],
                                    payloadHash: SigV4.emptyPayloadHash, amzDate: s3Date)
        #expect(signature(auth) == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func sessionTokenIsSignedAndSecretNeverShown() {
        let creds = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "s3cr3t-value", sessionToken: "tok", source: "environment")
        let h = SigV4(credentials: creds, region: "eu-west-1").sign(method: "GET", host: "h", path: "/", query: [], headers: [],
                                                                     payloadHash: SigV4.emptyPayloadHash, time: 0)
        #expect(h.contains { $0.0 == "X-Amz-Security-Token" && $0.1 == "tok" })
        #expect(h.first { $0.0 == "Authorization" }!.1.contains("x-amz-security-token"))
        #expect(!"\(creds)".contains("s3cr3t"))
    }

    @Test func uriEncoding() {
        #expect(SigV4.uriEncode("a b+c/d~e", encodeSlash: false) == "a%20b%2Bc/d~e")
        #expect(SigV4.uriEncode("a/b", encodeSlash: true) == "a%2Fb")
        #expect(SigV4.uriEncode("ключ", encodeSlash: true) == "%D0%BA%D0%BB%D1%8E%D1%87")
        #expect(SigV4.canonicalQuery([("b", "2"), ("a", "x y"), ("a", "+")]) == "a=%2B&a=x%20y&b=2")
        #expect(SigV4.amzDate(1_440_938_160) == "20150830T123600Z")
    }
}
