from tests.helpers import api_login, bearer


def test_register_login_me(client, app_ctx):
    response = client.post("/api/v1/auth/register", json={
        "email": "Cleo@Example.com", "password": "long-enough-pw",
        "first_name": "Cleo", "last_name": "Doe"})
    assert response.status_code == 201, response.get_json()
    tokens = api_login(client, "cleo@example.com", "long-enough-pw")
    me = client.get("/api/v1/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200, me.get_json()
    assert me.get_json()["email"] == "cleo@example.com"
