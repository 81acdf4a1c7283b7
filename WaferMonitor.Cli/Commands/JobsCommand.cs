using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using WaferMonitor.Cli.Reading;

namespace WaferMonitor.Cli.Commands;

/// <summary><c>wafermonitor jobs</c>: a site's newest jobs from its LocalApi, as a table or JSON.</summary>
internal static class JobsCommand
{
    public static Command Create()
    {
        var api = new ApiOptions();
        var key = new Option<string?>("--key") { Description = "Only the job with this business key" };
        var limit = new Option<int>("--limit") { Description = "How many jobs, newest first (1-10000)", DefaultValueFactory = _ => 20 };
        var command = new Command("jobs", "List a site's newest jobs (from its LocalApi).");
        api.AddTo(command);
        command.Add(key);
        command.Add(limit);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var client = new ApiClient(parse.GetValue(api.Api), parse.GetValue(api.Token));
            var query = Query.Build(
                ("limit", parse.GetValue(limit).ToString(CultureInfo.InvariantCulture)),
                ("status", parse.GetValue(api.Status)),
                ("app_name", parse.GetValue(api.App)),
                ("business_key", parse.GetValue(key)));
            var body = await client.GetStringAsync("v1/jobs" + query, cancellationToken);
            if (parse.GetValue(api.Json))
            {
                Console.WriteLine(body);
                return 0;
            }
            using var page = JsonDocument.Parse(body);
            var rows = page.RootElement.GetProperty("items").EnumerateArray().Select(Row).ToList();
            if (rows.Count == 0)
            {
                Console.WriteLine("no jobs");
                return 0;
            }
            Table.Write(["STARTED", "STATUS", "APP", "KEY", "DURATION", "SUBJOBS", "JOB ID"], rows, statusColumn: 1);
            return 0;
        });
        return command;
    }

    private static string[] Row(JsonElement job)
    {
        var subjobs = job.GetProperty("subjobs");
        var total = subjobs.GetProperty("total").GetInt32();
        var failed = subjobs.GetProperty("failed").GetInt32();
        return
        [
            Format.Time(job.GetProperty("started_at")),
            job.GetProperty("status").GetString() ?? "",
            job.GetProperty("app_name").GetString() ?? "",
            job.GetProperty("job_key").GetString() ?? "",
            Format.Seconds(job.GetProperty("duration_s")),
            total == 0 ? "-" : failed == 0 ? $"{total}" : $"{total} ({failed} failed)",
            job.GetProperty("job_id").GetString() ?? "",
        ];
    }
}
