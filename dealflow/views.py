from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def board(request):
    # Placeholder until the dealflow board issue lands.
    return HttpResponse("The dealflow board is coming.", content_type="text/plain")
