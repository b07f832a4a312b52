func fuzzSIP() {}
@main enum M { static func main() {} }
