using WaferMonitor.LocalApi;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(defaultPort: 18000);
builder.AddLocalApi();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapLocalApi();
return await app.RunServiceAsync();
