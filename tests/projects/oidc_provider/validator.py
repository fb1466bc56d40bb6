from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    """Adds the standard profile and email claims (DOT releases each only with its scope)."""

    def get_additional_claims(self, request):
        user = request.user
        return {
            "name": user.get_full_name() or user.username,
            "preferred_username": user.username,
            "email": user.email,
            "email_verified": True,
        }
