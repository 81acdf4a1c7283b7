using WaferMonitor.ServiceDefaults.Security;

namespace WaferMonitor.Tests.Security;

/// <summary>
/// The route table of every service: no write without a credential, no read without a token, except the routes chosen
/// to stay open (health, metrics, the pages' static files). A route that declares nothing falls to the admin-only
/// fallback policy, so a forgotten route is closed rather than open.
/// </summary>
public sealed class RouteScanTests
{
    public static TheoryData<string> Services => new(RouteTable.ServiceNames);

    [Theory]
    [MemberData(nameof(Services))]
    public void Every_route_but_health_metrics_and_page_files_requires_a_credential(string service)
    {
        var routes = RouteTable.Of(service);
        Assert.NotEmpty(routes);
        foreach (var route in routes)
        {
            if (RouteTable.OpenRoutes.Contains(route.Pattern))
            {
                Assert.True(route.Anonymous && route.Method == "GET", $"{route} is meant to be an open GET");
                continue;
            }
            Assert.False(route.Anonymous, $"{route} is open to anonymous callers");
            var policy = Assert.Single(route.Policies.Distinct());
            if (route.ToString() == CanaryCheck)
                Assert.Equal(SecurityPolicies.Ingest, policy);
            else if (route.Method == "GET")
                Assert.True(policy is SecurityPolicies.Read or SecurityPolicies.Admin, $"{route}: a read needs the read scope, not '{policy}'");
            else
                Assert.True(policy is SecurityPolicies.Ingest or SecurityPolicies.Admin, $"{route}: a write needs ingest or admin, not '{policy}'");
        }
    }

    /// <summary>The one read an ingest key may make: the Sidecar's canary job, and no other job (SyntheticTests).</summary>
    private const string CanaryCheck = "localapi GET /v1/synthetic/checks/{checkId:guid}";

    [Fact]
    public void Writes_are_ingest_or_admin_as_intended()
    {
        var writes = RouteTable.ServiceNames.SelectMany(RouteTable.Of).Where(r => r.Method != "GET")
            .ToDictionary(r => r.ToString(), r => r.Policies.Single());
        Assert.Equal(new Dictionary<string, string>
        {
            ["localapi POST /v1/ingest/events"] = SecurityPolicies.Ingest,
            ["localapi POST /v1/ingest/events:batch"] = SecurityPolicies.Ingest,
            ["localapi POST /v1/sidecars/heartbeat"] = SecurityPolicies.Ingest,
            ["localapi POST /v1/synthetic/results"] = SecurityPolicies.Ingest,
            ["archiver POST /v1/archive/run"] = SecurityPolicies.Admin,
            ["sidecar POST /v1/ingest/events"] = SecurityPolicies.Ingest,
            ["sidecar POST /v1/ingest/events:batch"] = SecurityPolicies.Ingest,
            ["sidecar POST /v1/spool/dead-letters:replay"] = SecurityPolicies.Admin,
        }, writes);
    }
}
