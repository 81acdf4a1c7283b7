using WaferMonitor.CentralApi;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(defaultPort: 19000);
builder.AddCentralApi();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapCentralApi();
return await app.RunServiceAsync();
