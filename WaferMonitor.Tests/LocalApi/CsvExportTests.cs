using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;
using WaferMonitor.Tests.Pages;

namespace WaferMonitor.Tests.LocalApi;

/// <summary><c>format=csv</c> of <c>/v1/jobs</c> and <c>/v1/subjobs</c>: the JSON listing's rows, every page, streamed.</summary>
[Collection(FabCollection.Name)]
public sealed class CsvExportTests(FabFixture fab)
{
    [Fact]
    public async Task The_csv_holds_every_row_the_json_pages_hold_with_the_same_filters()
    {
        using var client = fab.Client("localapi-fab1");
        var app = new AppRef(Guid.NewGuid(), "csv-" + Guid.NewGuid().ToString("N")[..8], "1.0.0");
        var now = DateTimeOffset.UtcNow;
        var jobs = new List<Guid>();
        for (var i = 0; i < 7; i++)
            jobs.Add(await Lots.PostAsync(client, "fab1", app, i == 0 ? "=1+2" : $"lot-{i}", now.AddMinutes(-30 + i),
                [i % 3 == 0 ? EntityStatuses.Failed : EntityStatuses.Succeeded, EntityStatuses.Succeeded, EntityStatuses.Succeeded]));

        foreach (var filter in new[] { $"app_name={app.Name}", $"app_name={app.Name}&status=failed", $"app_name={app.Name}&from={now.AddMinutes(-27):O}" })
        {
            using var response = await client.GetAsync($"/v1/jobs?{filter.Replace("+", "%2B")}&format=csv&limit=2");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
            Assert.Equal("jobs.csv", response.Content.Headers.ContentDisposition!.FileNameStar ?? response.Content.Headers.ContentDisposition.FileName);
            var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            var json = await client.GetFromJsonAsync<JsonElement>($"/v1/jobs?{filter.Replace("+", "%2B")}&limit=100");
            var expected = json.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("job_id").GetGuid()).ToList();
            Assert.NotEmpty(expected);
            Assert.Equal(expected, lines.Skip(1).Select(line => Guid.Parse(line[..36])));
        }

        using var all = await client.GetAsync($"/v1/jobs?app_name={app.Name}&format=csv");
        var rows = (await all.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(8, rows.Length);
        // A spreadsheet would run a field starting with '=' as a formula: it is escaped.
        Assert.Contains(rows, row => row.Contains("'=1+2", StringComparison.Ordinal));
        Assert.DoesNotContain(rows, row => row.Contains(",=1+2,", StringComparison.Ordinal));

        using var subjobs = await client.GetAsync($"/v1/subjobs?job_id={jobs[3]}&format=csv&limit=1");
        var subjobRows = (await subjobs.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("subjob_id,job_id,site_id,app_id,app_name,app_version,sub_key,status,", subjobRows[0]);
        Assert.Equal(["wafer-01", "wafer-02", "wafer-03"], subjobRows.Skip(1).Select(row => row.Split(',')[6]).Order());
        Assert.Single(subjobRows, row => row.Contains(",failed,", StringComparison.Ordinal));

        using var bad = await client.GetAsync("/v1/jobs?format=xml");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("format 'xml'", await bad.Content.ReadAsStringAsync());
    }
}
