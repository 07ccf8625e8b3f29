var builder = WebApplication.CreateSlimBuilder(args);
builder.WebHost.UseUrls(builder.Configuration["urls"] ?? "http://127.0.0.1:0");
var app = builder.Build();
app.MapGet("/version", () => Results.Json(new { major = "1", minor = "32", gitVersion = "v1.32.0-fleetsim" }));
await app.RunAsync();
